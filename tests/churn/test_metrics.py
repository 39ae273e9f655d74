"""metrics against brute-force definitions and a published example."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics_svc.churn.metrics import calibration_error, pr_auc, roc_auc


def pairwise_auc(y, s):
    pos = [b for a, b in zip(y, s, strict=True) if a]
    neg = [b for a, b in zip(y, s, strict=True) if not a]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def stepwise_ap(y, s):
    """Precision at each distinct threshold times the recall gained there."""
    y, s = np.asarray(y, float), np.asarray(s, float)
    ap, prev_recall = 0.0, 0.0
    for t in sorted(set(s), reverse=True):
        chosen = s >= t
        recall = y[chosen].sum() / y.sum()
        ap += (recall - prev_recall) * y[chosen].mean()
        prev_recall = recall
    return ap


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 6)), min_size=2, max_size=40))
def test_auc_and_ap_equal_their_definitions_with_ties(pairs):
    y = [int(a) for a, _ in pairs]
    s = [float(b) for _, b in pairs]
    if 0 < sum(y) < len(y):
        assert roc_auc(np.array(y), np.array(s)) == pytest.approx(pairwise_auc(y, s))
    if sum(y) > 0:
        assert pr_auc(np.array(y), np.array(s)) == pytest.approx(stepwise_ap(y, s))


def test_average_precision_of_scikit_learns_documented_example():
    # scikit-learn's average_precision_score docstring: 0.83...
    assert pr_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.8333, abs=1e-4)


def test_auc_extremes_and_undefined():
    y = np.array([0, 0, 1, 1])
    assert roc_auc(y, np.array([1, 2, 3, 4])) == 1.0
    assert roc_auc(y, np.array([4, 3, 2, 1])) == 0.0
    assert roc_auc(y, np.ones(4)) == 0.5
    assert np.isnan(roc_auc(np.ones(3), np.arange(3.0)))


def test_calibration_error_small_for_calibrated_large_for_shifted():
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 1, 200_000)
    y = (rng.uniform(0, 1, len(p)) < p).astype(float)
    assert calibration_error(y, p) < 0.005
    assert calibration_error(y, np.clip(p + 0.2, 0, 1)) == pytest.approx(0.2, abs=0.03)


def test_calibration_error_by_hand():
    # two bins of two: predicted 0.2 / observed 0.5, predicted 0.8 / observed 1.0
    y = np.array([0, 1, 1, 1])
    p = np.array([0.2, 0.2, 0.8, 0.8])
    assert calibration_error(y, p, bins=2) == pytest.approx(0.5 * 0.3 + 0.5 * 0.2)
