"""ROC AUC, PR AUC (average precision) and calibration error, for binary outcomes."""

from __future__ import annotations

import numpy as np
from scipy import stats


def _check(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y, score = np.asarray(y, dtype=float), np.asarray(score, dtype=float)
    if y.shape != score.shape or y.ndim != 1:
        raise ValueError("y and score must be 1-d arrays of the same length")
    return y, score


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """P(score of a random positive > score of a random negative), ties counting one half
    (the Mann-Whitney statistic over midranks)."""
    y, score = _check(y, score)
    pos = y > 0.5
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = stats.rankdata(score)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def pr_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Average precision: sum over thresholds of (recall step) x precision, tied scores taken
    together (as scikit-learn's average_precision_score)."""
    y, score = _check(y, score)
    n_pos = float((y > 0.5).sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-score, kind="mergesort")
    s, t = score[order], (y[order] > 0.5).astype(float)
    # the last index of each run of equal scores
    ends = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    tp = np.cumsum(t)[ends]
    predicted = ends + 1.0
    precision = tp / predicted
    recall = tp / n_pos
    steps = np.diff(np.r_[0.0, recall])
    return float((steps * precision).sum())


def calibration_error(y: np.ndarray, prob: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over `bins` equal-count bins of the predicted probability:
    sum over bins of (bin share) x |mean predicted - observed rate|."""
    y, prob = _check(y, prob)
    if len(y) == 0:
        return float("nan")
    order = np.argsort(prob, kind="mergesort")
    error = 0.0
    for part in np.array_split(order, min(bins, len(y))):
        error += len(part) / len(y) * abs(prob[part].mean() - y[part].mean())
    return float(error)


def brier(y: np.ndarray, prob: np.ndarray) -> float:
    y, prob = _check(y, prob)
    return float(np.mean((prob - y) ** 2))


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float(stats.spearmanr(a, b).statistic)
