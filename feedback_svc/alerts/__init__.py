"""Alerts: the desk that raises, deduplicates and resolves them (desk.py), the rating-drop test
(anomaly.py), the live WatchAlerts fan-out (broadcaster.py) and the moderation queue that safety
alerts feed (moderation.py)."""
