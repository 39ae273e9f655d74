"""Retention: of the users whose first start event falls in a day or week, how many
come back (do the return event) N periods later.

- cohort: the period (UTC calendar day, or ISO week from Monday) of the user's first
  start_event ever (default: first event of any type), for first events in the range;
  filters and breakdown apply to the properties of that first event;
- "returned in period n": at least one return event in the n-th period after the
  cohort's own period (period 0 is the cohort period itself);
- "returned in period n or later": at least one return event in period n or any later
  period, up to today (unbounded).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import asyncpg

from analytics_svc.figures import Report, Table
from analytics_svc.queries import daily
from analytics_svc.queries import retention as sql
from analytics_svc.requests import ReportParams, day_start, today


async def compute(pool: asyncpg.Pool, params: ReportParams) -> tuple[dict, str]:
    """{(group, cohort): {"size": int, "in": [users per period], "or_later": [...]}} and the source."""
    unit = "week" if params.granularity == "week" else "day"
    lo, hi = day_start(params.start), day_start(params.end + timedelta(days=1))
    cov = None if params.return_event else await daily.coverage(pool, params.start, max(today(), params.end))
    rows = await sql.run(
        pool,
        unit=unit,
        lo=lo,
        hi=hi,
        start_event=params.start_event,
        return_event=params.return_event,
        filters=params.filters,
        breakdown=params.breakdown,
        returns_cov=cov,
    )
    n = params.periods
    cohorts: dict = defaultdict(lambda: {"size": 0, "in": [0] * (n + 1), "last": defaultdict(int)})
    for r in rows:
        entry = cohorts[(r["grp"], r["cohort"])]
        if r["kind"] == "size":
            entry["size"] = r["users"]
        elif r["kind"] == "in" and r["n"] <= n:
            entry["in"][r["n"]] = r["users"]
        elif r["kind"] == "last":
            entry["last"][r["n"]] = r["users"]
    for entry in cohorts.values():
        last = entry.pop("last")
        entry["or_later"] = [sum(v for k, v in last.items() if k >= p) for p in range(n + 1)]
    source = "raw" if cov is None else ("rollups+raw" if cov.rolled else "raw")
    return dict(sorted(cohorts.items())), source


async def report(pool: asyncpg.Pool, params: ReportParams) -> Report:
    cohorts, source = await compute(pool, params)
    split = [params.breakdown] if params.breakdown else []
    periods = [f"period_{p}" for p in range(params.periods + 1)]
    bounded = Table("retention", [*split, "cohort", "cohort_size", *periods])
    unbounded = Table("retention_or_later", [*split, "cohort", "cohort_size", *periods])
    totals = [0] * (params.periods + 1)
    totals_later = [0] * (params.periods + 1)
    size_total = 0
    for (group, cohort), entry in cohorts.items():
        key = [group] if split else []
        bounded.rows.append([*key, str(cohort), entry["size"], *entry["in"]])
        unbounded.rows.append([*key, str(cohort), entry["size"], *entry["or_later"]])
        size_total += entry["size"]
        totals = [a + b for a, b in zip(totals, entry["in"], strict=True)]
        totals_later = [a + b for a, b in zip(totals_later, entry["or_later"], strict=True)]
    rates = Table("retention_rates", ["period", "returned_rate", "returned_or_later_rate"])
    for p in range(params.periods + 1):
        rates.rows.append(
            [
                p,
                totals[p] / size_total if size_total else 0.0,
                totals_later[p] / size_total if size_total else 0.0,
            ]
        )
    summary = {
        "cohort_unit": "week" if params.granularity == "week" else "day",
        "users": size_total,
        "start_event": params.start_event or "any",
        "return_event": params.return_event or "any",
        "periods": params.periods,
    }
    return Report(
        params.report_type, str(params.start), str(params.end), [bounded, unbounded, rates], summary, source
    )
