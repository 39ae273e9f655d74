"""Daily aggregates: the nightly rollup tables, and the same figures computed from raw
events for days that are not rolled up yet.

Each aggregate is one SELECT over raw events (RAW_*), used twice: the rollup inserts
its rows for one day, and readers union it with the rollup table for the days the
rollup has not covered (`source()`), so both paths give identical figures.
Placeholders {lo} {hi} {days}: the time bounds and the list of days to compute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg

from analytics_svc.queries.codes import type_bit
from analytics_svc.queries.params import Binds
from analytics_svc.requests import day_start

DAY = "(ts AT TIME ZONE 'UTC')::date"
DIMS = (
    "coalesce(age_group, '') AS age_group, coalesce(platform, '') AS platform, "
    "coalesce(device_type, '') AS device_type"
)
_RANGE = f"ts >= {{lo}} AND ts < {{hi}} AND {DAY} = ANY({{days}})"
# rollup_days.version of the days rolled up now: 2 added the per-user rollups
# (sequences.VERSION), 3 daily_recommendation_clicks.
VERSION = 3
RECOMMENDATION_CLICKS_VERSION = 3

RAW = {
    "daily_user_activity": f"""
        SELECT {DAY} AS day, user_id, {DIMS}, count(*)::int AS events, bit_or({type_bit()}) AS type_mask
        FROM events WHERE {_RANGE}
        GROUP BY 1, 2, 3, 4, 5""",
    "daily_event_counts": f"""
        SELECT {DAY} AS day, event_type, {DIMS}, count(*) AS events
        FROM events WHERE {_RANGE}
        GROUP BY 1, 2, 3, 4, 5""",
    # A story counts once per key even if a list repeats a slug (DISTINCT in the lateral).
    "daily_content": f"""
        SELECT {DAY} AS day, k.kind, k.key, {DIMS}, count(*) AS uses
        FROM events e
        CROSS JOIN LATERAL (
            SELECT DISTINCT kind, key FROM (
                SELECT 'universe', u FROM unnest(e.universes) u
                UNION ALL SELECT 'character', c FROM unnest(e.characters) c
                UNION ALL SELECT 'theme', e.theme WHERE e.theme IS NOT NULL
                UNION ALL SELECT 'moral_lesson', e.moral_lesson WHERE e.moral_lesson IS NOT NULL
                UNION ALL SELECT 'universe_pair', a || '+' || b
                          FROM unnest(e.universes) a, unnest(e.universes) b WHERE a < b
            ) AS z(kind, key)
        ) AS k
        WHERE e.event_type = 'story_creation' AND {_RANGE}
        GROUP BY 1, 2, 3, 4, 5, 6""",
    "daily_creation_times": f"""
        SELECT {DAY} AS day, {DIMS}, array_agg(creation_time ORDER BY creation_time) AS times
        FROM events
        WHERE event_type = 'story_creation' AND creation_time IS NOT NULL AND {_RANGE}
        GROUP BY 1, 2, 3, 4""",
    "daily_recommendation_clicks": f"""
        SELECT {DAY} AS day, coalesce(props->>'recommendation_type', '') AS recommendation_type,
               coalesce(props->>'model_version', '') AS model_version, {DIMS},
               count(*) FILTER (WHERE event_type = 'recommendation_shown') AS shown,
               count(*) FILTER (WHERE event_type = 'recommendation_clicked') AS clicked
        FROM events
        WHERE event_type IN ('recommendation_shown', 'recommendation_clicked') AND {_RANGE}
        GROUP BY 1, 2, 3, 4, 5, 6""",
}
COLUMNS = {
    "daily_user_activity": "day, user_id, age_group, platform, device_type, events, type_mask",
    "daily_event_counts": "day, event_type, age_group, platform, device_type, events",
    "daily_content": "day, kind, key, age_group, platform, device_type, uses",
    "daily_creation_times": "day, age_group, platform, device_type, times",
    "daily_recommendation_clicks": (
        "day, recommendation_type, model_version, age_group, platform, device_type, shown, clicked"
    ),
}

# First event of each user per type and overall ('*'); an earlier event replaces the
# stored one, a later or equal one changes nothing: re-running is a no-op.
FIRST_EVENTS = f"""
INSERT INTO user_first_events AS f (user_id, event_type, first_ts, age_group, platform, device_type)
SELECT * FROM (
    SELECT DISTINCT ON (user_id, event_type) user_id, event_type, ts, {DIMS}
    FROM events WHERE ts >= $1 AND ts < $2
    ORDER BY user_id, event_type, ts, event_id
) per_type
UNION ALL
SELECT * FROM (
    SELECT DISTINCT ON (user_id) user_id, '*', ts, {DIMS}
    FROM events WHERE ts >= $1 AND ts < $2
    ORDER BY user_id, ts, event_id
) overall
ON CONFLICT (user_id, event_type) DO UPDATE
SET first_ts = excluded.first_ts, age_group = excluded.age_group,
    platform = excluded.platform, device_type = excluded.device_type
WHERE excluded.first_ts < f.first_ts
"""


# Every filter combination at once (CUBE); '*' marks "any value" of a dimension.
ACTIVE_COUNTS = """
INSERT INTO daily_active_counts (day, age_group, platform, device_type, dau, wau, mau)
SELECT $1::date,
       CASE WHEN GROUPING(age_group) = 1 THEN '*' ELSE age_group END,
       CASE WHEN GROUPING(platform) = 1 THEN '*' ELSE platform END,
       CASE WHEN GROUPING(device_type) = 1 THEN '*' ELSE device_type END,
       count(DISTINCT user_id) FILTER (WHERE day = $1::date),
       count(DISTINCT user_id) FILTER (WHERE day > $1::date - 7),
       count(DISTINCT user_id)
FROM daily_user_activity WHERE day > $1::date - 30 AND day <= $1::date
GROUP BY CUBE (age_group, platform, device_type)
"""


async def rollup_aggregates(conn: asyncpg.Connection, day: date) -> None:
    """The day's rows of every RAW table, rebuilt from its raw events (in the day's rollup
    transaction, analytics_svc/rollups/rebuild.py)."""
    lo, hi = day_start(day), day_start(day + timedelta(days=1))
    for table, select in RAW.items():
        await conn.execute(f"DELETE FROM {table} WHERE day = $1", day)
        sql = select.format(lo="$1", hi="$2", days="$3::date[]")
        await conn.execute(f"INSERT INTO {table} ({COLUMNS[table]}) {sql}", lo, hi, [day])


async def rollup_first_and_active(conn: asyncpg.Connection, day: date) -> None:
    """First events of the day's users, and DAU/WAU/MAU of the day (after daily_user_activity)."""
    lo, hi = day_start(day), day_start(day + timedelta(days=1))
    await conn.execute(FIRST_EVENTS, lo, hi)
    await conn.execute("DELETE FROM daily_active_counts WHERE day = $1", day)
    await conn.execute(ACTIVE_COUNTS, day)


async def mark_rolled_up(conn: asyncpg.Connection, day: date) -> int:
    """Record the day as rolled up in the current format (VERSION); its event count."""
    events = await conn.fetchval(
        "SELECT coalesce(sum(events), 0) FROM daily_event_counts WHERE day = $1", day
    )
    await conn.execute(
        """INSERT INTO rollup_days (day, events, rolled_at, version)
           VALUES ($1, $2, clock_timestamp(), $3)
           ON CONFLICT (day) DO UPDATE
           SET events = excluded.events, rolled_at = clock_timestamp(), version = excluded.version""",
        day,
        events,
        VERSION,
    )
    return events


@dataclass(frozen=True)
class Coverage:
    """Which days of a range the rollups cover; the others are read from raw events."""

    rolled: list[date]
    unrolled: list[date]

    @property
    def source(self) -> str:
        if self.rolled and self.unrolled:
            return "rollups+raw"
        return "rollups" if self.rolled else "raw"


async def coverage(
    conn: asyncpg.Connection | asyncpg.Pool, first: date, last: date, version: int = 1
) -> Coverage:
    """Days rolled up (with at least the given rollup format version) and the others."""
    rows = await conn.fetch(
        "SELECT day FROM rollup_days WHERE day BETWEEN $1 AND $2 AND version >= $3", first, last, version
    )
    rolled = {r["day"] for r in rows}
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return Coverage(sorted(rolled), [d for d in days if d not in rolled])


def source(table: str, cov: Coverage, binds: Binds) -> str:
    """A FROM-able subquery with the rows of `table` for the covered days, and the same
    rows computed from raw events for the others."""
    parts = []
    if cov.rolled:
        parts.append(
            f"SELECT {COLUMNS[table]} FROM {table} WHERE day = ANY({binds.add(cov.rolled, 'date[]')})"
        )
    if cov.unrolled:
        lo = binds.add(day_start(cov.unrolled[0]), "timestamptz")
        hi = binds.add(day_start(cov.unrolled[-1] + timedelta(days=1)), "timestamptz")
        parts.append(RAW[table].format(lo=lo, hi=hi, days=binds.add(cov.unrolled, "date[]")))
    return "(" + "\nUNION ALL\n".join(parts) + ")"
