"""SQL of the story_creation, feature_usage, engagement and content reports.

Buckets are date_trunc(granularity, ts in UTC); GROUPING SETS add the totals row
(is_total = 1) in the same pass.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from analytics_svc.queries import daily
from analytics_svc.queries.params import BREAKDOWN_SQL, Binds, dims_filter, fetch_analytical


def _range(binds: Binds, lo: datetime, hi: datetime) -> str:
    return f"ts >= {binds.add(lo, 'timestamptz')} AND ts < {binds.add(hi, 'timestamptz')}"


async def story_creation(pool: asyncpg.Pool, lo, hi, granularity: str, filters, breakdown: str):
    binds = Binds()
    g = binds.add(granularity, "text")
    sql = f"""
        SELECT GROUPING(bucket, grp) AS is_total, bucket, grp, count(*) AS stories,
               count(DISTINCT user_id) AS creators,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY creation_time) AS median,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY creation_time) AS p90
        FROM (SELECT date_trunc({g}, ts AT TIME ZONE 'UTC') AS bucket, {BREAKDOWN_SQL[breakdown]} AS grp,
                     user_id, creation_time
              FROM events
              WHERE event_type = 'story_creation' AND {_range(binds, lo, hi)}
                AND {dims_filter(binds, filters)}
        ) e
        GROUP BY GROUPING SETS ((bucket, grp), ()) ORDER BY 1, 2, 3
    """
    return await fetch_analytical(pool, sql, *binds.values)


async def feature_usage(pool: asyncpg.Pool, lo, hi, granularity: str, filters, breakdown: str):
    binds = Binds()
    g = binds.add(granularity, "text")
    sql = f"""
        SELECT GROUPING(bucket, feature, grp) AS level, bucket, feature, grp, count(*) AS uses,
               count(DISTINCT user_id) AS users
        FROM (SELECT date_trunc({g}, ts AT TIME ZONE 'UTC') AS bucket, coalesce(feature, '') AS feature,
                     {BREAKDOWN_SQL[breakdown]} AS grp, user_id
              FROM events
              WHERE event_type = 'feature_used' AND {_range(binds, lo, hi)} AND {dims_filter(binds, filters)}
        ) e
        GROUP BY GROUPING SETS ((bucket, feature, grp), (feature, grp), ()) ORDER BY 1, 2, 3, 4
    """
    return await fetch_analytical(pool, sql, *binds.values)


async def active_users(pool: asyncpg.Pool, lo, hi, filters) -> int:
    binds = Binds()
    where = f"{_range(binds, lo, hi)} AND {dims_filter(binds, filters)}"
    sql = f"SELECT count(DISTINCT user_id) FROM events WHERE {where}"
    return await pool.fetchval(sql, *binds.values)


async def engagement(pool: asyncpg.Pool, lo, hi, granularity: str, filters, breakdown: str):
    """Sessions = distinct (user_id, session_id) among events with a session id, in the
    bucket of their first event; length = last minus first event time within the range."""
    binds = Binds()
    g = binds.add(granularity, "text")
    sql = f"""
        WITH s AS (
            SELECT user_id, session_id, min(ts) AS started, max(ts) AS ended, count(*) AS events,
                   (array_agg({BREAKDOWN_SQL[breakdown]} ORDER BY ts, event_id))[1] AS grp
            FROM events
            WHERE session_id IS NOT NULL AND {_range(binds, lo, hi)} AND {dims_filter(binds, filters)}
            GROUP BY user_id, session_id
        )
        SELECT GROUPING(bucket, grp) AS is_total, bucket, grp, count(*) AS sessions,
               count(DISTINCT user_id) AS users, avg(events)::float8 AS events_per_session,
               avg(seconds)::float8 AS mean_seconds,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median_seconds
        FROM (SELECT date_trunc({g}, started AT TIME ZONE 'UTC') AS bucket, grp, user_id, events,
                     extract(epoch FROM ended - started)::float8 AS seconds FROM s) x
        GROUP BY GROUPING SETS ((bucket, grp), ()) ORDER BY 1, 2, 3
    """
    return await fetch_analytical(pool, sql, *binds.values)


async def content(pool: asyncpg.Pool, cov: daily.Coverage, filters, breakdown: str):
    """Uses per day, kind, key (and breakdown group), universe pairs left out."""
    binds = Binds()
    src = daily.source("daily_content", cov, binds)
    sql = f"""
        SELECT day, kind, key, {BREAKDOWN_SQL[breakdown]} AS grp, sum(uses)::bigint AS uses
        FROM {src} c WHERE kind <> 'universe_pair' AND {dims_filter(binds, filters)}
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    """
    return await fetch_analytical(pool, sql, *binds.values)
