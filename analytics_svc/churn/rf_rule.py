"""The recency-frequency rule: the classic RF score, a baseline of predicted retention.

Each active child gets a recency score (1-5: quintile of days since the last active day,
5 = most recent) and a frequency score (1-5: quintile of active days in the last 28); the
rule's score is their sum (higher = likelier to return). No fitting.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def quintile(values: np.ndarray) -> np.ndarray:
    """1..5 by the average rank of each value (ties share a score)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return values
    pct = stats.rankdata(values) / len(values)
    return np.clip(np.ceil(pct * 5.0), 1, 5)


def rf_score(days_since_last: np.ndarray, active_days_28: np.ndarray) -> np.ndarray:
    return quintile(-np.asarray(days_since_last, dtype=float)) + quintile(active_days_28)
