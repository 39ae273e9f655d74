"""The churn_risk report: the latest predictions by age group, platform and weekly cohort, the
children at risk, and the strongest factors of each segment.

- A child is **at risk** when their predicted probability of returning within 7 days is below
  AT_RISK_BELOW (0.5): likelier to stay away next week than to come back.
- A segment's **factors** are the features with the largest mean push on the 7-day model's two
  logits (its "still around" gate and its "comes back" part, logistic.TwoPartModel) against the
  average child the model was trained on: (gate coef_j + pace coef_j) x (segment mean of
  feature j - training mean) / training scale, i.e. the standardised coefficients times the
  segment's standardised feature mean. Negative: it lowers the segment's chance of coming back.
  TOP_FACTORS per segment, by absolute value.

Tables (every one with the same figures): `by_age_group`, `by_platform`, `by_cohort` (the
Monday of the week of the child's first event), `segments` (the three together), and
`factors` (split, segment, rank, factor, effect, what the factor means). Filters (age group,
platform, device) select the children; an explicit date range keeps the cohorts whose week
starts in it. The predictions are as of `scored_day` in the summary.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg
import numpy as np

from analytics_svc.churn import store
from analytics_svc.churn.features import DESCRIPTIONS
from analytics_svc.figures import Report, Table
from analytics_svc.requests import Filters, ReportParams

AT_RISK_BELOW = 0.5
TOP_FACTORS = 3
FIGURES = ["active_children", "mean_p_return_7d", "mean_p_return_28d", "at_risk", "at_risk_share"]
SPLITS = (("age_group", ("age_group",)), ("platform", ("platform",)), ("cohort", ("cohort_week",)))


@dataclass
class Segment:
    children: int = 0
    sum_7d: float = 0.0
    sum_28d: float = 0.0
    at_risk: int = 0
    factors: np.ndarray | None = None  # the sum of the children's factors

    def add(self, p7: float, p28: float, factors: Sequence[float] | None) -> None:
        self.children += 1
        self.sum_7d += p7
        self.sum_28d += p28
        self.at_risk += p7 < AT_RISK_BELOW
        if factors is not None:
            row = np.asarray(factors, dtype=float)
            self.factors = row.copy() if self.factors is None else self.factors + row

    def figures(self) -> list[object]:
        n = self.children
        return [n, self.sum_7d / n, self.sum_28d / n, self.at_risk, self.at_risk / n]

    def top(self, features: Sequence[str]) -> list[tuple[str, float]]:
        if self.factors is None or not self.children:
            return []
        mean = self.factors / self.children
        order = sorted(range(len(mean)), key=lambda j: (-abs(mean[j]), features[j]))
        return [(features[j], float(mean[j])) for j in order[:TOP_FACTORS] if mean[j] != 0.0]


def fold(rows: Sequence, features: Sequence[str]) -> tuple[dict[str, dict[tuple, Segment]], Segment]:
    """{split: {segment key: Segment}} for the three splits and their combination, and the total."""
    splits: dict[str, dict[tuple, Segment]] = {name: defaultdict(Segment) for name, _ in SPLITS}
    splits["segments"] = defaultdict(Segment)
    total = Segment()
    for r in rows:
        factors = r["factors"] if "factors" in r.keys() else None  # noqa: SIM118 - asyncpg records
        p7, p28 = float(r["p_return_7d"]), float(r["p_return_28d"])
        total.add(p7, p28, None)
        for name, columns in SPLITS:
            splits[name][tuple(str(r[c]) for c in columns)].add(p7, p28, factors)
        splits["segments"][(r["age_group"], r["platform"], str(r["cohort_week"]))].add(p7, p28, None)
    return splits, total


def tables(splits: dict[str, dict[tuple, Segment]], features: Sequence[str]) -> list[Table]:
    out = []
    for name, _ in SPLITS:
        key = "cohort_week" if name == "cohort" else name
        table = Table(f"by_{name}", [key, *FIGURES])
        for k, segment in sorted(splits[name].items()):
            table.rows.append([*k, *segment.figures()])
        out.append(table)
    combined = Table("segments", ["age_group", "platform", "cohort_week", *FIGURES])
    for k, segment in sorted(splits["segments"].items()):
        combined.rows.append([*k, *segment.figures()])
    out.append(combined)
    factors = Table("factors", ["split", "segment", "rank", "factor", "effect", "meaning"])
    for name, _ in SPLITS:
        for k, segment in sorted(splits[name].items()):
            for rank, (feature, effect) in enumerate(segment.top(features), start=1):
                factors.rows.append([name, k[0], rank, feature, effect, DESCRIPTIONS.get(feature, feature)])
    out.append(factors)
    return out


def _cohort_range(params: ReportParams) -> tuple[date | None, date | None]:
    if not params.explicit_dates:
        return None, None
    # Cohort weeks are Mondays: a week starting in the range.
    return params.start, params.end


async def report(pool: asyncpg.Pool, params: ReportParams, events: object = None) -> Report:
    lo, hi = _cohort_range(params)
    scored = await store.scored(pool, params.filters, lo, hi)
    features = scored.features or []
    splits, total = fold(scored.rows or [], features)
    summary: dict[str, object] = {
        "active_children": total.children,
        "at_risk": total.at_risk,
        "at_risk_share": total.at_risk / total.children if total.children else 0.0,
        "mean_p_return_7d": total.sum_7d / total.children if total.children else None,
        "mean_p_return_28d": total.sum_28d / total.children if total.children else None,
        "at_risk_below": AT_RISK_BELOW,
        "model_id": scored.model_id,
        "trained_at": scored.trained_at,
        "scored_day": scored.scored_day,
        "train_rows_7d": scored.train_rows_7d,
        "train_rows_28d": scored.train_rows_28d,
    }
    weeks = sorted(k[0] for k in splits["cohort"])
    start = str(lo) if lo else (weeks[0] if weeks else str(params.start))
    end = (
        str(hi)
        if hi
        else (str(date.fromisoformat(weeks[-1]) + timedelta(days=6)) if weeks else str(params.end))
    )
    return Report(params.report_type, start, end, tables(splits, features), summary, "model")


async def dashboard_figures(pool: asyncpg.Pool, filters: Filters) -> store.AtRisk:
    return await store.at_risk(pool, filters, AT_RISK_BELOW)
