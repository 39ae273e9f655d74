"""The experiment report: sufficient statistics from the event store (eventstore/), statistics from stats.py,
shaped as report tables (definitions in docs/experiments.md).

Tables: `variants` (users, shares, SRM expectation), `results` (one row per metric and
variant: value, lift against control with fixed-horizon and always-valid intervals,
p-values raw and Holm-adjusted across treatments, Bayesian chance to win and expected
loss). The summary carries the SRM check and the decision on the primary metric, which
follows the always-valid intervals only (looking at the report every day is allowed).
"""

from __future__ import annotations

import asyncio
import math
from datetime import datetime, timedelta

from analytics_svc.eventstore.base import EventStore
from analytics_svc.experiments import stats as st
from analytics_svc.experiments.model import Experiment, Metric
from analytics_svc.figures import Report, Table
from analytics_svc.requests import ReportParams, day_start

RESULT_COLUMNS = [
    "metric",
    "role",
    "variant",
    "users",
    "value",
    "value_unadjusted",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "lift",
    "lift_ci_low",
    "lift_ci_high",
    "p_value",
    "p_value_holm",
    "chance_to_win",
    "expected_loss",
    "seq_ci_low",
    "seq_ci_high",
    "significant",
    "sequential_significant",
]


def _num(x: float) -> float | None:
    return None if x is None or math.isnan(x) or math.isinf(x) else x


def moments_of(rows: dict, variants: list[str]) -> list[st.Moments]:
    out = []
    for v in variants:
        r = rows.get(v)
        out.append(
            st.Moments(r["n"], r["sy"], r["syy"], r["sx"], r["sxx"], r["sxy"])
            if r
            else st.Moments(0, 0.0, 0.0)
        )
    return out


def metric_rows(
    metric: Metric, role: str, variants: list[str], moments: list[st.Moments]
) -> tuple[list[list[object]], list[st.Comparison], float]:
    """Rows of the results table for one metric; CUPED for conversion and mean metrics."""
    cuped = metric.kind != "ratio"
    adjusted, theta = st.estimates(metric.kind, moments, cuped=cuped)
    plain, _ = st.estimates(metric.kind, moments, cuped=False)
    treatments = len(variants) - 1
    # Bonferroni for the confidence sequences across treatments, Holm for the p-values.
    seq_alpha = st.ALPHA / max(treatments, 1)
    comparisons = [
        st.compare(adjusted[0], est, goal=metric.goal) if i else None for i, est in enumerate(adjusted)
    ]
    seq = [
        st.compare(adjusted[0], est, alpha=seq_alpha, goal=metric.goal) if i else None
        for i, est in enumerate(adjusted)
    ]
    holm = st.holm([c.p_value for c in comparisons[1:]]) if treatments else []
    rows: list[list[object]] = []
    for i, variant in enumerate(variants):
        base = [metric.name, role, variant, moments[i].n, _num(adjusted[i].value), _num(plain[i].value)]
        c = comparisons[i]
        if c is None:
            rows.append(base + [None] * (len(RESULT_COLUMNS) - len(base)))
            continue
        s = seq[i]
        rows.append(
            base
            + [_num(v) for v in (c.diff, c.diff_low, c.diff_high, c.lift, c.lift_low, c.lift_high, c.p_value)]
            + [_num(holm[i - 1]), _num(c.chance_to_win), _num(c.expected_loss)]
            + [_num(s.seq_low), _num(s.seq_high)]
            + [bool(c.p_value < st.ALPHA), s.sequential_significant]
        )
    return rows, [c for c in seq if c is not None], theta


def decision(metric: Metric, variants: list[str], seq: list[st.Comparison], srm: st.Srm) -> str:
    if srm.mismatch:
        return "invalid: sample ratio mismatch, investigate before reading results"
    better = [
        v for v, c in zip(variants[1:], seq, strict=True) if c.sequential_significant and _good(metric, c)
    ]
    worse = [
        v for v, c in zip(variants[1:], seq, strict=True) if c.sequential_significant and not _good(metric, c)
    ]
    if better:
        return f"{', '.join(better)} beats {variants[0]}"
    if worse and len(worse) == len(variants) - 1:
        return f"{variants[0]} beats {', '.join(worse)}"
    return "no decision yet: keep running"


def _good(metric: Metric, c: st.Comparison) -> bool:
    return (c.diff > 0) == (metric.goal == "increase")


async def build(events: EventStore, exp: Experiment, params: ReportParams) -> Report:
    """Sufficient statistics from the event store (the same rows on every backend)."""
    lo, hi = day_start(params.start), day_start(params.end + timedelta(days=1))
    since = datetime.fromisoformat(exp.weights_changed_at) if exp.weights_changed_at else None
    variants = [v.key for v in exp.variants]
    (users, users_since, mixed), *metric_results = await asyncio.gather(
        events.experiment_exposures(exp.key, lo, hi, params.filters, since),
        *(events.experiment_moments(m, exp.key, lo, hi, params.filters) for m in exp.metrics),
    )
    counts = [users.get(v, 0) for v in variants]
    srm = st.srm([users_since.get(v, 0) for v in variants], exp.weights)
    total = sum(counts)
    variant_table = Table("variants", ["variant", "weight", "users", "share", "expected_share"])
    wsum = sum(exp.weights)
    for v, n in zip(exp.variants, counts, strict=True):
        variant_table.rows.append([v.key, v.weight, n, n / total if total else None, v.weight / wsum])
    results = Table("results", RESULT_COLUMNS)
    summary: dict[str, object] = {
        "experiment_key": exp.key,
        "status": exp.status,
        "users": total,
        "users_in_several_variants": mixed,
        "srm_chi2": _num(srm.chi2),
        "srm_p_value": _num(srm.p_value),
        "srm_mismatch": srm.mismatch,
        "peeking_policy": "always-valid 95% confidence sequences (normal mixture)",
    }
    guardrails_violated = []
    for index, (metric, rows) in enumerate(zip(exp.metrics, metric_results, strict=True)):
        role = "primary" if index == 0 else "guardrail"
        table_rows, seq, theta = metric_rows(metric, role, variants, moments_of(rows, variants))
        results.rows.extend(table_rows)
        if index == 0:
            summary.update(primary_metric=metric.name, cuped_theta=theta)
            summary["decision"] = decision(metric, variants, seq, srm)
        else:
            # A guardrail is violated when the fixed-horizon test says it moved the wrong way:
            # deliberately more sensitive than the decision rule.
            for row in table_rows[1:]:
                diff, p = row[6], row[12]
                if (
                    diff is not None
                    and p is not None
                    and p < st.ALPHA
                    and (diff > 0) != (metric.goal == "increase")
                ):
                    guardrails_violated.append(f"{metric.name}:{row[2]}")
    summary["guardrails_violated"] = ", ".join(guardrails_violated)
    return Report(
        params.report_type, str(params.start), str(params.end), [variant_table, results], summary, "raw"
    )
