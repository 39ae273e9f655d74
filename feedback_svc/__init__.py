"""Feedback processing: ratings and comments, sentiment, problems, alerts, moderation, search."""
