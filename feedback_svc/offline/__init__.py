"""Offline tooling, never imported by the service: training and exporting the sentiment model
(train_sentiment.py, per_token_int8.py, compare_exports.py), fitting the comment weights
(fit_comment_weights.py), evaluation (evaluate.py) and the labelled data they read (labelled_data.py,
parent_comments.py). Training needs the `train` extra and torch."""
