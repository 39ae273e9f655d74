"""Offline tooling of the recommendation engine: data files, splits, models, training, tuning,
evaluation. The serving code (server, serving, model_watch, ...) imports nothing from here."""
