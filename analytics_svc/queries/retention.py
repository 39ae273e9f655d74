"""The retention queries: cohorts from user_first_events; returns either from the
per-user activity rollup (`cohort_activity`: one row per cohort user, folded in
retention.py) or, in SQL, from daily activity (rollups + raw) for "any event" and from
raw events of the chosen return event (`run`, kept as the independent path)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from analytics_svc.queries import daily, sequences
from analytics_svc.queries.params import BREAKDOWN_SQL, Binds, dims_filter, fetch_analytical


def cohort_sql(binds: Binds, unit_p: str, lo, hi, start_event: str, filters, breakdown: str) -> str:
    """(user_id, cohort, grp) of the users whose first start_event falls in lo..hi."""
    return f"""
        SELECT user_id, date_trunc({unit_p}, first_ts AT TIME ZONE 'UTC')::date AS cohort,
               {BREAKDOWN_SQL[breakdown]} AS grp
        FROM user_first_events
        WHERE event_type = {binds.add(start_event or "*", "text")}
          AND first_ts >= {binds.add(lo, "timestamptz")} AND first_ts < {binds.add(hi, "timestamptz")}
          AND {dims_filter(binds, filters)}"""


async def cohort_activity(
    pool: asyncpg.Pool,
    *,
    unit: str,
    lo,
    hi,
    start_event: str,
    filters,
    breakdown: str,
    cov: daily.Coverage,
    since,
) -> list[asyncpg.Record]:
    """(cohort, grp, days, masks) per cohort user (queries/sequences.py)."""
    binds = Binds()
    cohort = cohort_sql(binds, binds.add(unit, "text"), lo, hi, start_event, filters, breakdown)
    return await sequences.cohort_activity(
        pool, cohort_sql=cohort, binds=binds, unrolled=cov.unrolled, since=since
    )


async def run(
    pool: asyncpg.Pool,
    *,
    unit: str,
    lo: datetime,
    hi: datetime,
    start_event: str,
    return_event: str,
    filters,
    breakdown: str,
    returns_cov: daily.Coverage | None,
) -> list[asyncpg.Record]:
    """Rows (kind, grp, cohort, n, users): kind 'size' (n NULL), 'in' (returned in period
    n) and 'last' (furthest period with a return is n: 'n or later' is a suffix sum)."""
    binds = Binds()
    unit_p = binds.add(unit, "text")
    length = 7 if unit == "week" else 1
    cohort = cohort_sql(binds, unit_p, lo, hi, start_event, filters, breakdown)
    if return_event:
        returns = f"""
            SELECT user_id, (ts AT TIME ZONE 'UTC')::date AS day FROM events
            WHERE event_type = {binds.add(return_event, "text")} AND ts >= {binds.add(lo, "timestamptz")}"""
    else:
        assert returns_cov is not None
        returns = f"SELECT user_id, day FROM {daily.source('daily_user_activity', returns_cov, binds)} a"
    sql = f"""
        WITH cohort AS ({cohort}),
        ret AS ({returns}),  -- duplicates are removed once, in `per`
        per AS (
            SELECT DISTINCT c.user_id, c.grp, c.cohort,
                   (date_trunc({unit_p}, r.day)::date - c.cohort) / {length} AS n
            FROM cohort c JOIN ret r ON r.user_id = c.user_id AND r.day >= c.cohort
        )
        SELECT 'size' AS kind, grp, cohort, NULL::int AS n, count(*) AS users FROM cohort GROUP BY 2, 3
        UNION ALL
        SELECT 'in', grp, cohort, n, count(*) FROM per GROUP BY 2, 3, 4
        UNION ALL
        SELECT 'last', grp, cohort, n, count(*)
        FROM (SELECT user_id, grp, cohort, max(n) AS n FROM per GROUP BY 1, 2, 3) m GROUP BY 2, 3, 4
    """
    return await fetch_analytical(pool, sql, *binds.values)
