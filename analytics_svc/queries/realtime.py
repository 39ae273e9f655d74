"""SQL of the real-time minute buckets and of the first-event table they feed."""

from __future__ import annotations

from datetime import datetime

import asyncpg

_SAVE_EVENTS = """
INSERT INTO realtime_minute_events (minute, event_type, replica, events)
SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::bigint[])
ON CONFLICT (minute, event_type, replica) DO UPDATE SET events = excluded.events
"""
_SAVE_USERS = """
INSERT INTO realtime_minute_users (minute, user_id)
SELECT * FROM unnest($1::timestamptz[], $2::text[])
ON CONFLICT DO NOTHING
"""
# Earliest wins, as in the rollup (queries/daily.py FIRST_EVENTS).
_SAVE_FIRST = """
INSERT INTO user_first_events AS f (user_id, event_type, first_ts, age_group, platform, device_type)
SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[])
ON CONFLICT (user_id, event_type) DO UPDATE
SET first_ts = excluded.first_ts, age_group = excluded.age_group,
    platform = excluded.platform, device_type = excluded.device_type
WHERE excluded.first_ts < f.first_ts
"""


# Rows per statement. A flush runs on the service's event loop, and building and encoding the
# arrays of one statement holds it (9,000 first events in one statement: ~50-95 ms of CPU); in
# chunks, the loop serves calls while each chunk's statement runs (reports/realtime.py).
CHUNK = 1000


async def save_minutes(conn: asyncpg.Connection, counts, users, first) -> None:
    """In the caller's transaction; rows in sorted order, so concurrent flushes of two replicas
    lock them in the same order."""
    if counts:
        await conn.execute(_SAVE_EVENTS, *[list(c) for c in zip(*sorted(counts), strict=True)])
    users = sorted(users)
    for at in range(0, len(users), CHUNK):
        await conn.execute(_SAVE_USERS, *[list(c) for c in zip(*users[at : at + CHUNK], strict=True)])
    keys = sorted(first)
    for at in range(0, len(keys), CHUNK):
        chunk = keys[at : at + CHUNK]
        await conn.execute(
            _SAVE_FIRST,
            [k[0] for k in chunk],
            [k[1] for k in chunk],
            *[[first[k][i] for k in chunk] for i in range(4)],
        )


async def forget_before(pool: asyncpg.Pool, horizon: datetime) -> None:
    await pool.execute("DELETE FROM realtime_minute_events WHERE minute < $1", horizon)
    await pool.execute("DELETE FROM realtime_minute_users WHERE minute < $1", horizon)
