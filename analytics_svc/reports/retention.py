"""Retention: of the users whose first start event falls in a day or week, how many
come back (do the return event) N periods later.

- cohort: the period (UTC calendar day, or ISO week from Monday) of the user's first
  start_event ever (default: first event of any type), for first events in the range;
  filters and breakdown apply to the properties of that first event;
- "returned in period n": at least one return event in the n-th period after the
  cohort's own period (period 0 is the cohort period itself);
- "returned in period n or later": at least one return event in period n or any later
  period, up to today (unbounded).

Two paths with the same results: the per-user activity rollup (user_activity: every
active day of a user with the day's event types, plus the same from raw events for
days not rolled up) folded here in numpy, one row per cohort user; and the SQL join of
cohorts with daily activity / raw events (queries/retention.py `run`), kept as the
independent path the tests compare with.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import asyncpg
import numpy as np

from analytics_svc.figures import Report, Table
from analytics_svc.queries import codes, daily, sequences
from analytics_svc.queries import retention as sql
from analytics_svc.requests import ReportParams, day_start, today

_EPOCH = date(1970, 1, 1)


async def compute(
    pool: asyncpg.Pool, params: ReportParams, *, activity_allowed: bool = True
) -> tuple[dict, str]:
    """{(group, cohort): {"size": int, "in": [users per period], "or_later": [...]}} and the source."""
    unit = "week" if params.granularity == "week" else "day"
    if activity_allowed and (not params.return_event or codes.code_of(params.return_event)):
        return await _from_activity(pool, params, unit)
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


async def _from_activity(pool: asyncpg.Pool, params: ReportParams, unit: str) -> tuple[dict, str]:
    length = 7 if unit == "week" else 1
    # A week cohort's period 0 starts on the Monday before the range's first day.
    first = params.start - timedelta(days=length - 1)
    lo, hi = day_start(params.start), day_start(params.end + timedelta(days=1))
    # user_activity exists for the days rolled up since version 2 (a user idle since the
    # upgrade has no row): older days come from raw events, like days not rolled up.
    cov = await daily.coverage(pool, first, max(today(), params.end), sequences.VERSION)
    rows = await sql.cohort_activity(
        pool,
        unit=unit,
        lo=lo,
        hi=hi,
        start_event=params.start_event,
        filters=params.filters,
        breakdown=params.breakdown,
        cov=cov,
        since=day_start(first),
    )
    n = params.periods
    keys: dict[tuple[str, date], int] = {}
    row_key = np.fromiter(
        (keys.setdefault((r["grp"], r["cohort"]), len(keys)) for r in rows), dtype=np.int64, count=len(rows)
    )
    ordered_keys = list(keys)
    cohort_day = np.array([(c - _EPOCH).days for _, c in ordered_keys], dtype=np.int64)[row_key]
    lengths = np.fromiter((len(r["days"]) // 4 for r in rows), dtype=np.int64, count=len(rows))
    days = np.frombuffer(b"".join(r["days"] for r in rows), dtype=">i4").astype(np.int64)
    masks = np.frombuffer(b"".join(r["masks"] for r in rows), dtype=">i4").astype(np.int64)
    row = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
    # 1970-01-01 was a Thursday: (d + 3) % 7 is the ISO weekday counted from Monday = 0.
    period = days - (days + 3) % 7 if unit == "week" else days
    k = (period - cohort_day[row]) // length
    valid = k >= 0
    if params.return_event:
        valid &= (masks & (1 << codes.code_of(params.return_event))) != 0
    row, k = row[valid], k[valid]
    # Distinct (user, period) pairs.
    base = int(k.max(initial=0)) + 1
    pair = np.unique(row * base + k)
    row, k = pair // base, pair % base
    sizes = np.bincount(row_key, minlength=len(keys))
    span = n + 1
    inside = k <= n
    returned = np.bincount(row_key[row[inside]] * span + k[inside], minlength=len(keys) * span)
    last = np.full(len(rows), -1, dtype=np.int64)
    np.maximum.at(last, row, k)
    has = last >= 0
    # Users whose furthest return is period m count in every "m or later" column p <= m.
    furthest = np.minimum(last[has], n)
    later = np.bincount(row_key[has] * span + furthest, minlength=len(keys) * span).reshape(-1, span)
    or_later = np.cumsum(later[:, ::-1], axis=1)[:, ::-1]
    returned = returned.reshape(-1, span)
    cohorts = {
        key: {
            "size": int(sizes[i]),
            "in": [int(v) for v in returned[i]],
            "or_later": [int(v) for v in or_later[i]],
        }
        for i, key in enumerate(ordered_keys)
    }
    return dict(sorted(cohorts.items())), cov.source if cov.rolled else "raw"


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
