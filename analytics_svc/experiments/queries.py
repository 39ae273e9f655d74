"""Sufficient statistics of an experiment, per variant, straight from the events table.

Exposed users: users whose first experiment_exposure for the key falls in [lo, hi) (and
who saw exactly one variant: users seen in two are left out and counted). Per user, one
join against their events within ± the metric window of the first exposure (the ts bounds
let the BRIN index prune) gives y (after exposure) and x (before exposure for the CUPED
covariate, or the denominator of a ratio metric); per variant the query returns
n, Σy, Σy², Σx, Σx², Σxy: all stats.py needs.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from analytics_svc.experiments.model import Metric
from analytics_svc.queries.funnels import step_predicate
from analytics_svc.queries.params import Binds, dims_filter, fetch_analytical
from analytics_svc.requests import Filters

# Numeric properties as SQL over an events row (fixed set, never user text).
PROPERTY_SQL = {
    "creation_time": "creation_time::float8",
    "duration": "(props->>'duration')::float8",
    "position": "(props->>'position')::float8",
}


def _exposed(binds: Binds, key: str, lo: datetime, hi: datetime, filters: Filters) -> str:
    return f"""
    SELECT user_id, min(ts) AS first_ts, min(props->>'variant') AS variant,
           count(DISTINCT props->>'variant') AS variants
    FROM events
    WHERE event_type = 'experiment_exposure' AND props->>'experiment_key' = {binds.add(key, "text")}
      AND ts >= {binds.add(lo, "timestamptz")} AND ts < {binds.add(hi, "timestamptz")}
      AND {dims_filter(binds, filters)}
    GROUP BY user_id"""


async def exposures(
    pool: asyncpg.Pool, key: str, lo: datetime, hi: datetime, filters: Filters, since: datetime | None
) -> tuple[dict[str, int], dict[str, int], int]:
    """Users per variant, users per variant first exposed at or after `since` (for SRM),
    and the users left out for having seen several variants."""
    binds = Binds()
    exposed = _exposed(binds, key, lo, hi, filters)
    since_p = binds.add(since, "timestamptz")
    rows = await pool.fetch(
        f"""WITH exposed AS ({exposed})
        SELECT variant, variants > 1 AS mixed, count(*) AS users,
               count(*) FILTER (WHERE {since_p} IS NULL OR first_ts >= {since_p}) AS users_since
        FROM exposed GROUP BY 1, 2""",
        *binds.values,
    )
    users = {r["variant"]: r["users"] for r in rows if not r["mixed"]}
    since_users = {r["variant"]: r["users_since"] for r in rows if not r["mixed"]}
    return users, since_users, sum(r["users"] for r in rows if r["mixed"])


# Exposed users joined to their events by hash, never one pass over the events per user.
MOMENTS_NESTED_LOOPS = False


def moments_sql(
    metric: Metric, key: str, lo: datetime, hi: datetime, filters: Filters
) -> tuple[str, list[object]]:
    binds = Binds()
    exposed = _exposed(binds, key, lo, hi, filters)
    window = f"make_interval(hours => {binds.add(metric.window_hours, 'int')})"
    num = step_predicate(metric.step(), binds)
    post, pre = "e.ts >= x.first_ts", "e.ts < x.first_ts"
    value = PROPERTY_SQL.get(metric.property, "1.0::float8")
    match = num
    if metric.kind == "conversion":
        y = f"(count(*) FILTER (WHERE {post} AND {num}) > 0)::int::float8"
        x = f"(count(*) FILTER (WHERE {pre} AND {num}) > 0)::int::float8"
    elif metric.kind == "mean":
        y = f"avg({value}) FILTER (WHERE {post} AND {num})"
        x = f"coalesce(avg({value}) FILTER (WHERE {pre} AND {num}), 0)"
    else:
        den = step_predicate(metric.denominator_step(), binds)
        den_value = PROPERTY_SQL.get(metric.denominator_property, "1.0::float8")
        y = f"coalesce(sum({value}) FILTER (WHERE {post} AND {num}), 0)"
        x = f"coalesce(sum({den_value}) FILTER (WHERE {post} AND {den}), 0)"
        match = f"({num} OR {den})"
    lo_p, hi_p = binds.add(lo, "timestamptz"), binds.add(hi, "timestamptz")
    sql = f"""
    WITH exposed AS ({exposed}),
    per_user AS (
        SELECT x.variant, {y} AS y, {x} AS x
        FROM exposed x
        LEFT JOIN events e
          ON e.user_id = x.user_id AND {match}
         AND e.ts >= x.first_ts - {window} AND e.ts < x.first_ts + {window}
         AND e.ts >= {lo_p} - {window} AND e.ts < {hi_p} + {window}
        WHERE x.variants = 1
        GROUP BY x.user_id, x.variant
    )
    SELECT variant, count(*) AS n, sum(y) AS sy, sum(y * y) AS syy,
           sum(x) AS sx, sum(x * x) AS sxx, sum(x * y) AS sxy
    FROM per_user WHERE y IS NOT NULL GROUP BY variant"""
    return sql, binds.values


async def moments(
    pool: asyncpg.Pool, metric: Metric, key: str, lo: datetime, hi: datetime, filters: Filters
) -> dict[str, asyncpg.Record]:
    sql, values = moments_sql(metric, key, lo, hi, filters)
    rows = await fetch_analytical(pool, sql, *values, nested_loops=MOMENTS_NESTED_LOOPS)
    return {r["variant"]: r for r in rows}
