"""The dashboard's SQL: daily figures from rollups (+ raw for days not rolled up),
ingestion health from raw events, real-time figures from the minute buckets."""

from __future__ import annotations

from datetime import date, datetime

import asyncpg

from analytics_svc.queries import daily
from analytics_svc.queries.params import Binds, dims_filter, fetch_analytical


async def active_users(pool: asyncpg.Pool, cov: daily.Coverage, filters, start: date, end: date):
    """(dau, wau, mau) ending at `end`, and distinct users per day over start..end."""
    binds = Binds()
    src = daily.source("daily_user_activity", cov, binds)
    where = dims_filter(binds, filters)
    e = binds.add(end, "date")
    s = binds.add(start, "date")
    # Hash aggregates only (no count(DISTINCT), which sorts): the last active day of each
    # user decides DAU/WAU/MAU; distinct (day, user) pairs give the daily series.
    sql = f"""
        WITH act AS (SELECT DISTINCT day, user_id FROM {src} a WHERE {where}),
        last_seen AS (SELECT user_id, max(day) AS last FROM act WHERE day > {e} - 30 GROUP BY user_id)
        SELECT 'totals' AS kind, NULL::date AS day,
               count(*) FILTER (WHERE last = {e}) AS dau,
               count(*) FILTER (WHERE last > {e} - 7) AS wau,
               count(*) AS mau
        FROM last_seen
        UNION ALL
        SELECT 'day', day, count(*), NULL, NULL FROM act WHERE day >= {s} GROUP BY day
    """
    return await fetch_analytical(pool, sql, *binds.values)


async def precomputed_active(pool: asyncpg.Pool, filters, window_first: date, start: date, end: date):
    """Rows (day, dau, wau, mau) of daily_active_counts for start..end, or None when they
    cannot be trusted: some day of end's 30-day window is not rolled up, or was rolled
    up after `end` (its WAU/MAU would be stale)."""
    fresh = await pool.fetchval(
        """SELECT count(*) = $3 AND max(rolled_at) <= max(rolled_at) FILTER (WHERE day = $2)
           FROM rollup_days WHERE day BETWEEN $1 AND $2""",
        window_first,
        end,
        (end - window_first).days + 1,
    )
    if not fresh:
        return None
    return await pool.fetch(
        """SELECT day, dau, wau, mau FROM daily_active_counts
           WHERE day BETWEEN $1 AND $2 AND age_group = $3 AND platform = $4 AND device_type = $5""",
        start,
        end,
        filters.age_group or "*",
        filters.platform or "*",
        filters.device_type or "*",
    )


async def event_counts(pool: asyncpg.Pool, cov: daily.Coverage, filters):
    binds = Binds()
    src = daily.source("daily_event_counts", cov, binds)
    sql = f"""
        SELECT day, event_type, platform, device_type, sum(events)::bigint AS events
        FROM {src} c WHERE {dims_filter(binds, filters)}
        GROUP BY 1, 2, 3, 4
    """
    return await fetch_analytical(pool, sql, *binds.values)


async def content(pool: asyncpg.Pool, cov: daily.Coverage, filters):
    binds = Binds()
    src = daily.source("daily_content", cov, binds)
    sql = f"""
        SELECT kind, key, sum(uses)::bigint AS uses
        FROM {src} c WHERE {dims_filter(binds, filters)}
        GROUP BY 1, 2
    """
    return await fetch_analytical(pool, sql, *binds.values)


async def stored_since(pool: asyncpg.Pool, since: datetime):
    """Events stored since `since` with the p50/p99 of their processing lag."""
    sql = """
        SELECT count(*) AS stored,
               percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (
                   ORDER BY extract(epoch FROM stored_at - received_at)) AS lag
        FROM events WHERE stored_at >= $1
    """
    return await pool.fetchrow(sql, since)


async def failed(pool: asyncpg.Pool, lo: datetime, hi: datetime) -> int:
    """Rejected events received in [lo, hi)."""
    return await pool.fetchval(
        "SELECT count(*) FROM failed_events WHERE received_at >= $1 AND received_at < $2", lo, hi
    )


async def realtime(pool: asyncpg.Pool, since: datetime):
    per_minute = await pool.fetch(
        """SELECT minute, sum(events)::bigint AS events FROM realtime_minute_events
           WHERE minute >= $1 GROUP BY minute ORDER BY minute""",
        since,
    )
    users = await pool.fetchval(
        "SELECT count(DISTINCT user_id) FROM realtime_minute_users WHERE minute >= $1", since
    )
    return per_minute, users
