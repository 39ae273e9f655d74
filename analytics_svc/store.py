"""The analytics service's SQL. Always parameterized; nothing else touches these tables."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from analytics_svc.ingest import Rejection

# One round trip for a whole group of events: arrays in, unnest, ON CONFLICT for
# idempotency on event_id, RETURNING tells which ones were new. Lists of slugs
# travel comma-joined (slugs cannot contain commas) because unnest flattens
# multi-dimensional arrays.
_INSERT_EVENTS = """
INSERT INTO events (event_id, user_id, session_id, event_type, ts, received_at, story_id, universes,
                    characters, theme, moral_lesson, creation_time, device_type, platform, age_group,
                    feature, props)
SELECT e, u, s, t, ts, r, st, string_to_array(un, ','), string_to_array(ch, ','), th, ml, ct, dt, pf, ag,
       ft, pr::jsonb
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
            $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::real[], $13::text[],
            $14::text[], $15::text[], $16::text[], $17::text[])
     AS x(e, u, s, t, ts, r, st, un, ch, th, ml, ct, dt, pf, ag, ft, pr)
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""

_INSERT_FAILED = """
INSERT INTO failed_events (event_id, field, reason, source, payload)
SELECT NULLIF(e, ''), f, r, $4, p::jsonb
FROM unnest($1::text[], $2::text[], $3::text[], $5::text[]) AS x(e, f, r, p)
"""


def _join(values: list[str] | None) -> str | None:
    return ",".join(values) if values else None


def insert_arguments(rows: Sequence[tuple]) -> list[list]:
    columns = [list(c) for c in zip(*rows, strict=True)]
    columns[7] = [_join(v) for v in columns[7]]
    columns[8] = [_join(v) for v in columns[8]]
    return columns


async def insert_events(conn: asyncpg.Connection, rows: Sequence[tuple]) -> set[str]:
    """Insert rows (in ingest.COLUMNS order); return the event_ids that were new."""
    if not rows:
        return set()
    records = await conn.fetch(_INSERT_EVENTS, *insert_arguments(rows))
    return {r[0] for r in records}


async def insert_failed(conn: asyncpg.Connection, rejections: Sequence[Rejection], source: str) -> None:
    if not rejections:
        return
    await conn.execute(
        _INSERT_FAILED,
        [r.event_id for r in rejections],
        [r.field for r in rejections],
        [r.reason for r in rejections],
        source,
        [r.payload for r in rejections],
    )


async def existing_event_ids(conn: asyncpg.Connection | asyncpg.Pool, event_ids: list[str]) -> set[str]:
    records = await conn.fetch("SELECT event_id FROM events WHERE event_id = ANY($1::text[])", event_ids)
    return {r[0] for r in records}
