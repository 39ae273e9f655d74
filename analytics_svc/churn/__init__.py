"""Predicted retention: each active child's probability of returning within 7 and 28 days.

Pure modules, no database: `activity` (per-user, per-day counters), `features` (the model's
inputs at a cut-off day), `logistic` (the model), `bgnbd` and `rf_rule` (the baselines),
`metrics` (ROC AUC, PR AUC, calibration error), `evaluation` (the time-split evaluation; its
command line on simulated history is simulator/evaluate_retention.py), `scoring` (what the
service's training computes) and `risk`'s folding (the churn_risk report). With the database:
`store` (its SQL), `job` (the scheduled training in the analytics service), `risk.report` and
`risk.dashboard_figures`.
"""
