"""The report's rows for one metric with three variants, and its decision rule (no database)."""

from __future__ import annotations

import numpy as np
import pytest

from analytics_svc.experiments import report
from analytics_svc.experiments import stats as st
from analytics_svc.experiments.model import Metric

METRIC = Metric("completed", "conversion", "story_completed")


def conversions(rng, n: int, p: float, pre_p: float = 0.3) -> st.Moments:
    y = rng.binomial(1, p, n).astype(float)
    x = rng.binomial(1, pre_p, n).astype(float)
    return st.Moments(n, y.sum(), y.sum(), x.sum(), x.sum(), (x * y).sum())


def by_column(row: list) -> dict:
    return dict(zip(report.RESULT_COLUMNS, row, strict=True))


def test_three_variants_each_against_control_with_holm_and_bonferroni_sequences():
    rng = np.random.default_rng(21)
    variants = ["control", "b", "c"]
    moments = [conversions(rng, 4000, 0.20), conversions(rng, 4000, 0.20), conversions(rng, 4000, 0.26)]
    rows, seq, theta = report.metric_rows(METRIC, "primary", variants, moments)
    rows = [by_column(r) for r in rows]
    assert [r["variant"] for r in rows] == variants and rows[0]["diff"] is None
    p = [rows[1]["p_value"], rows[2]["p_value"]]
    # Holm with two hypotheses: the smaller p doubled, the larger kept (monotone, ≤ 1).
    small, large = sorted(p)
    expected = {small: min(1, 2 * small), large: min(1, max(2 * small, large))}
    assert [rows[1]["p_value_holm"], rows[2]["p_value_holm"]] == pytest.approx([expected[v] for v in p])
    # Sequences at α/2 for two treatments: wider than the same sequence at α.
    est, _ = st.estimates("conversion", moments, cuped=True)
    single = st.compare(est[0], est[2])
    assert rows[2]["seq_ci_high"] - rows[2]["seq_ci_low"] > single.seq_high - single.seq_low
    assert theta == pytest.approx(st.cuped_theta(moments))
    assert report.decision(METRIC, variants, seq, st.srm([4000, 4000, 4000], [1, 1, 1])) == "c beats control"


def test_decision_rules():
    rng = np.random.default_rng(22)
    variants = ["control", "treatment"]
    fair = st.srm([1000, 1000], [1, 1])
    flat = [conversions(rng, 1000, 0.2), conversions(rng, 1000, 0.2)]
    _, seq, _ = report.metric_rows(METRIC, "primary", variants, flat)
    assert report.decision(METRIC, variants, seq, fair) == "no decision yet: keep running"
    worse = [conversions(rng, 5000, 0.3), conversions(rng, 5000, 0.2)]
    _, seq, _ = report.metric_rows(METRIC, "primary", variants, worse)
    assert report.decision(METRIC, variants, seq, fair) == "control beats treatment"
    lower_is_better = Metric("time", "mean", "story_creation", property="creation_time", goal="decrease")
    assert report.decision(lower_is_better, variants, seq, fair) == "treatment beats control"
    assert report.decision(METRIC, variants, seq, st.srm([1200, 800], [1, 1])).startswith("invalid")
