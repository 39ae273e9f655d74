"""SQL of the per-user rollups (migration 0007): per-user-day event sequences for funnels,
per-user activity for retention, creation-time histograms for the dashboard.

As in daily.py, each rollup is one SELECT over raw events used twice: the nightly rollup
inserts its rows for one day, and readers compute the same rows from raw events for the
days the rollup has not covered (format version 2 in rollup_days).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import asyncpg

from analytics_svc.queries.codes import EVENT_TYPES, context_code, event_code, type_bit
from analytics_svc.queries.daily import DAY, Coverage
from analytics_svc.queries.params import Binds, dims_filter, fetch_analytical
from analytics_svc.requests import day_start

VERSION = 2  # rollup_days.version of a day whose per-user rollups exist

_RANGE = f"ts >= {{lo}} AND ts < {{hi}} AND {DAY} = ANY({{days}})"


def raw_days(days: list[date], binds: Binds, since: datetime | None = None) -> str:
    """WHERE fragment for events on the given days: one ts range per run of consecutive
    days (so that the BRIN index skips the gaps), from `since` on."""
    runs: list[list[date]] = []
    for day in days:
        if runs and runs[-1][-1] + timedelta(days=1) == day:
            runs[-1].append(day)
        else:
            runs.append([day])
    ranges = []
    for run in runs:
        lo = day_start(run[0]) if since is None else max(since, day_start(run[0]))
        hi = day_start(run[-1] + timedelta(days=1))
        if lo < hi:
            ranges.append(f"(ts >= {binds.add(lo, 'timestamptz')} AND ts < {binds.add(hi, 'timestamptz')})")
    return "(" + (" OR ".join(ranges) or "FALSE") + ")"


_MICROS = "(extract(epoch FROM ts) * 1000000)::int8"
CODES = len(EVENT_TYPES) + 1  # event type codes 0 .. CODES - 1
# One event = 15 bytes, big-endian: type code (1), context code (int2), position in the
# user's stream of the day (int4, 0-based) and microseconds since the epoch (int8).
# Events are grouped by type code (each group in stream order), and starts[c + 1] is the
# index of the first event with code c (starts[CODES + 1] = events): a reader needing a
# few types (an ordered funnel) reads only their slices; the positions restore the stream.
_STARTS = ", ".join(f"count(*) FILTER (WHERE code < {c})" for c in range(CODES + 1))
RAW_SEQUENCES = f"""
    SELECT day, user_id, count(*)::int AS events, ARRAY[{_STARTS}]::int4[] AS starts,
           string_agg(set_byte('\\x00'::bytea, 0, code) || int2send(ctx::int2) || int4send(pos::int4)
                      || int8send(us), ''::bytea ORDER BY code, pos) AS seq
    FROM (
        SELECT {DAY} AS day, user_id, {event_code()} AS code, ({context_code()}) AS ctx, {_MICROS} AS us,
               row_number() OVER (PARTITION BY {DAY}, user_id ORDER BY ts, event_id COLLATE "C") - 1 AS pos
        FROM events WHERE {_RANGE}
    ) e
    GROUP BY 1, 2"""
EVENT_BYTES = 15


def slices(codes: list[int]) -> str:
    """SQL over (starts, seq): the events of the given type codes only."""
    parts = [
        f"substring(seq FROM starts[{c + 1}] * {EVENT_BYTES} + 1"
        f" FOR (starts[{c + 2}] - starts[{c + 1}]) * {EVENT_BYTES})"
        for c in sorted(set(codes))
    ]
    return " || ".join(parts)


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
        ("user_day_sequences", RAW_SEQUENCES, "day, user_id, events, starts, seq"),
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
        parts.append(raw.replace(_RANGE, raw_days(cov.unrolled, binds)))
    return "(" + "\nUNION ALL\n".join(parts) + ")"


async def user_sequences(
    pool: asyncpg.Pool, cov: Coverage, codes: list[int] | None, every_row: bool = False
) -> list[asyncpg.Record]:
    """(user_id, day number, events, seq) per user and day of the coverage's days, in no
    particular order (sorting ~60 MB of rows costs more here than in numpy); seq holds the
    events of the given type codes only (None: all), grouped by type. Rows without any
    of those events are left out unless every_row (a strict funnel needs every row to
    tell which events are adjacent in the full stream)."""
    binds = Binds()
    src = _source("user_day_sequences", RAW_SEQUENCES, "day, user_id, events, starts, seq", cov, binds)
    seq, where = "seq", "TRUE"
    if codes is not None:
        seq = slices(codes)
        if not every_row:
            where = " OR ".join(f"starts[{c + 2}] > starts[{c + 1}]" for c in sorted(set(codes)))
    sql = f"SELECT user_id, day - DATE '1970-01-01' AS day, events, {seq} AS seq FROM {src} s WHERE {where}"
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
        parts.append(
            f"""SELECT string_agg(float4send(v) || int4send(n::int), ''::bytea ORDER BY v) FROM (
                    SELECT creation_time AS v, count(*) AS n FROM events
                    WHERE event_type = 'story_creation' AND creation_time IS NOT NULL
                      AND {raw_days(cov.unrolled, binds)} AND {dims_filter(binds, filters)}
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
        raw = f"""
            SELECT user_id, string_agg(int4send(d), ''::bytea ORDER BY d) AS days,
                   string_agg(int4send(m), ''::bytea ORDER BY d) AS masks
            FROM (SELECT user_id, {DAY} - DATE '1970-01-01' AS d, bit_or({type_bit()}) AS m
                  FROM events WHERE {raw_days(unrolled, binds, since)}
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
