"""SQL of the per-user rollups (migration 0007): per-user-day event sequences for funnels,
per-user activity for retention, creation-time histograms for the dashboard.

As in daily.py, each rollup is one SELECT over raw events used twice: the nightly rollup
inserts its rows for one day, and readers compute the same rows from raw events for the
days the rollup has not covered (format version 2 in rollup_days).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import asyncpg

from analytics_svc.queries.codes import context_code, event_code, type_bit
from analytics_svc.queries.daily import DAY, Coverage
from analytics_svc.queries.params import Binds, dims_filter, fetch_analytical
from analytics_svc.requests import day_start

VERSION = 2  # rollup_days.version of a day whose per-user rollups exist

_RANGE = f"ts >= {{lo}} AND ts < {{hi}} AND {DAY} = ANY({{days}})"
_MICROS = "(extract(epoch FROM ts) * 1000000)::int8"
# One event = 11 bytes: type code, context code (int2), microseconds (int8), big-endian.
_EVENT = (
    f"set_byte('\\x00'::bytea, 0, {event_code()}) || int2send(({context_code()})::int2)"
    f" || int8send({_MICROS})"
)

RAW_SEQUENCES = f"""
    SELECT {DAY} AS day, user_id, count(*)::int AS events,
           string_agg({_EVENT}, ''::bytea ORDER BY ts, event_id COLLATE "C") AS seq
    FROM events WHERE {_RANGE}
    GROUP BY 1, 2"""

# Histogram of creation_time per day and filter combination; '*' = any value.
_CUBE_DIMS = ", ".join(
    f"CASE WHEN GROUPING({d}) = 1 THEN '*' ELSE {d} END AS {d}"
    for d in ("age_group", "platform", "device_type")
)
RAW_CREATION_HISTOGRAMS = f"""
    SELECT day, age_group, platform, device_type, sum(n)::bigint AS creations,
           string_agg(float4send(v) || int4send(n::int), ''::bytea ORDER BY v) AS hist
    FROM (
        SELECT {DAY} AS day, {_CUBE_DIMS},
               creation_time AS v, count(*) AS n
        FROM (SELECT ts, creation_time, coalesce(age_group, '') AS age_group,
                     coalesce(platform, '') AS platform, coalesce(device_type, '') AS device_type
              FROM events
              WHERE event_type = 'story_creation' AND creation_time IS NOT NULL AND {_RANGE}) e
        GROUP BY 1, creation_time, CUBE (age_group, platform, device_type)
    ) h
    GROUP BY 1, 2, 3, 4"""

# Rebuild user_activity for the users in $1 (text[]) from daily_user_activity.
ACTIVITY = """
    INSERT INTO user_activity (user_id, days, masks)
    SELECT user_id, string_agg(int4send(day - DATE '1970-01-01'), ''::bytea ORDER BY day),
           string_agg(int4send(mask), ''::bytea ORDER BY day)
    FROM (SELECT user_id, day, coalesce(bit_or(type_mask), 0) AS mask
          FROM daily_user_activity WHERE user_id = ANY($1::text[]) GROUP BY 1, 2) d
    GROUP BY 1"""


async def rollup_day(conn: asyncpg.Connection, day: date, previous_users: list[str]) -> None:
    """Inside the day's rollup transaction, after daily_user_activity was rebuilt:
    sequences and histograms of the day, and user_activity of the users active on the
    day before (previous_users) or now."""
    lo, hi = day_start(day), day_start(day + timedelta(days=1))
    for table, select, columns in (
        ("user_day_sequences", RAW_SEQUENCES, "day, user_id, events, seq"),
        (
            "daily_creation_histograms",
            RAW_CREATION_HISTOGRAMS,
            "day, age_group, platform, device_type, creations, hist",
        ),
    ):
        await conn.execute(f"DELETE FROM {table} WHERE day = $1", day)
        sql = select.format(lo="$1", hi="$2", days="$3::date[]")
        await conn.execute(f"INSERT INTO {table} ({columns}) {sql}", lo, hi, [day])
    users = await conn.fetchval(
        """SELECT array_agg(DISTINCT user_id) FROM (
               SELECT user_id FROM daily_user_activity WHERE day = $1
               UNION ALL SELECT unnest($2::text[])) u""",
        day,
        previous_users,
    )
    users = users or []
    await conn.execute("DELETE FROM user_activity WHERE user_id = ANY($1::text[])", users)
    await conn.execute(ACTIVITY, users)


async def day_users(conn: asyncpg.Connection, day: date) -> list[str]:
    return [
        r[0] for r in await conn.fetch("SELECT DISTINCT user_id FROM daily_user_activity WHERE day = $1", day)
    ]


def _source(table: str, raw: str, columns: str, cov: Coverage, binds: Binds) -> str:
    parts = []
    if cov.rolled:
        parts.append(f"SELECT {columns} FROM {table} WHERE day = ANY({binds.add(cov.rolled, 'date[]')})")
    if cov.unrolled:
        lo = binds.add(day_start(cov.unrolled[0]), "timestamptz")
        hi = binds.add(day_start(cov.unrolled[-1] + timedelta(days=1)), "timestamptz")
        parts.append(raw.format(lo=lo, hi=hi, days=binds.add(cov.unrolled, "date[]")))
    return "(" + "\nUNION ALL\n".join(parts) + ")"


async def user_sequences(pool: asyncpg.Pool, cov: Coverage) -> list[asyncpg.Record]:
    """(user_id, seq) per user and day of the coverage's days, by user (byte order) and day."""
    binds = Binds()
    src = _source("user_day_sequences", RAW_SEQUENCES, "day, user_id, events, seq", cov, binds)
    sql = f'SELECT user_id, seq FROM {src} s ORDER BY user_id COLLATE "C", day'
    return await fetch_analytical(pool, sql, *binds.values)


async def creation_histograms(pool: asyncpg.Pool, cov: Coverage, filters) -> list[bytes]:
    """The histograms (packed value, count pairs) of the days, for the filter combination."""
    binds = Binds()
    parts = []
    if cov.rolled:
        parts.append(
            f"""SELECT hist FROM daily_creation_histograms
                WHERE day = ANY({binds.add(cov.rolled, "date[]")})
                  AND age_group = {binds.add(filters.age_group or "*", "text")}
                  AND platform = {binds.add(filters.platform or "*", "text")}
                  AND device_type = {binds.add(filters.device_type or "*", "text")}"""
        )
    if cov.unrolled:
        lo = binds.add(day_start(cov.unrolled[0]), "timestamptz")
        hi = binds.add(day_start(cov.unrolled[-1] + timedelta(days=1)), "timestamptz")
        days = binds.add(cov.unrolled, "date[]")
        parts.append(
            f"""SELECT string_agg(float4send(v) || int4send(n::int), ''::bytea ORDER BY v) FROM (
                    SELECT creation_time AS v, count(*) AS n FROM events
                    WHERE event_type = 'story_creation' AND creation_time IS NOT NULL
                      AND {_RANGE.format(lo=lo, hi=hi, days=days)} AND {dims_filter(binds, filters)}
                    GROUP BY 1) h"""
        )
    rows = await fetch_analytical(pool, "\nUNION ALL\n".join(parts), *binds.values)
    return [r[0] for r in rows if r[0]]


async def cohort_activity(
    pool: asyncpg.Pool,
    *,
    cohort_sql: str,
    binds: Binds,
    unrolled: list[date],
    since: datetime,
) -> list[asyncpg.Record]:
    """(cohort, grp, days, masks) per cohort user: user_activity (rolled-up days) followed
    by the same from raw events for the unrolled days (from `since` on)."""
    raw = "SELECT NULL::text AS user_id, NULL::bytea AS days, NULL::bytea AS masks WHERE FALSE"
    if unrolled:
        lo = binds.add(max(since, day_start(unrolled[0])), "timestamptz")
        hi = binds.add(day_start(unrolled[-1] + timedelta(days=1)), "timestamptz")
        days = binds.add(unrolled, "date[]")
        raw = f"""
            SELECT user_id, string_agg(int4send(d), ''::bytea ORDER BY d) AS days,
                   string_agg(int4send(m), ''::bytea ORDER BY d) AS masks
            FROM (SELECT user_id, {DAY} - DATE '1970-01-01' AS d, bit_or({type_bit()}) AS m
                  FROM events WHERE {_RANGE.format(lo=lo, hi=hi, days=days)}
                    AND user_id IN (SELECT user_id FROM cohort)
                  GROUP BY 1, 2) x
            GROUP BY 1"""
    sql = f"""
        WITH cohort AS ({cohort_sql}), raw AS ({raw})
        SELECT c.cohort, c.grp, coalesce(a.days, ''::bytea) || coalesce(r.days, ''::bytea) AS days,
               coalesce(a.masks, ''::bytea) || coalesce(r.masks, ''::bytea) AS masks
        FROM cohort c LEFT JOIN user_activity a ON a.user_id = c.user_id
        LEFT JOIN raw r ON r.user_id = c.user_id
    """
    return await fetch_analytical(pool, sql, *binds.values)
