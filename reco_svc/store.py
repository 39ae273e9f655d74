"""SQL of the recommendation engine (catalog, moderation, registry, interactions); parameters only."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import asyncpg

from common.database import long_statement_timeout
from common.privacy.training import not_erased_if_tracked
from reco_svc.catalog import CatalogEntry
from reco_svc.interactions import INTERACTION_EVENT_TYPES, RATED, RATING_WEIGHTS, EventFacts

_COLUMNS = (
    "kind, item_id, name, min_age, max_age, tags, universe, universes, characters, theme, "
    "moral_lesson, creator_id, source"
)
_VALUES = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13"
_CHANGED = (
    "(catalog_items.name, catalog_items.min_age, catalog_items.max_age, catalog_items.tags, "
    "catalog_items.universe, catalog_items.universes, catalog_items.characters, catalog_items.theme, "
    "catalog_items.moral_lesson, catalog_items.creator_id) IS DISTINCT FROM "
    "(EXCLUDED.name, EXCLUDED.min_age, EXCLUDED.max_age, EXCLUDED.tags, EXCLUDED.universe, "
    "EXCLUDED.universes, EXCLUDED.characters, EXCLUDED.theme, EXCLUDED.moral_lesson, EXCLUDED.creator_id)"
)
_SET = (
    "name = EXCLUDED.name, min_age = EXCLUDED.min_age, max_age = EXCLUDED.max_age, tags = EXCLUDED.tags, "
    "universe = EXCLUDED.universe, universes = EXCLUDED.universes, characters = EXCLUDED.characters, "
    "theme = EXCLUDED.theme, moral_lesson = EXCLUDED.moral_lesson, creator_id = EXCLUDED.creator_id, "
    "source = EXCLUDED.source, updated_at = clock_timestamp()"
)
_SELECT = """
SELECT c.kind, c.item_id, c.name, c.min_age, c.max_age, c.tags, c.universe, c.universes, c.characters,
       c.theme, c.moral_lesson, c.creator_id, c.source, c.updated_at,
       h.reason AS hidden_reason, h.item_id IS NOT NULL AS hidden
  FROM catalog_items c
  LEFT JOIN LATERAL (
        SELECT item_id, coalesce(reason, '') AS reason FROM hidden_items
         WHERE item_type = c.kind AND item_id = c.item_id AND cleared_at IS NULL
         ORDER BY hidden_at DESC LIMIT 1) h ON true
"""


def _args(e: CatalogEntry) -> tuple:
    return (
        e.kind,
        e.id,
        e.name,
        e.min_age,
        e.max_age,
        list(e.tags),
        e.universe or None,
        list(e.universes),
        list(e.characters),
        e.theme or None,
        e.moral_lesson or None,
        e.creator_id or None,
        e.source,
    )


def entry_of(row: asyncpg.Record) -> CatalogEntry:
    return CatalogEntry(
        kind=row["kind"],
        id=row["item_id"],
        name=row["name"],
        min_age=row["min_age"],
        max_age=row["max_age"],
        tags=tuple(row["tags"] or ()),
        universe=row["universe"] or "",
        universes=tuple(row["universes"] or ()),
        characters=tuple(row["characters"] or ()),
        theme=row["theme"] or "",
        moral_lesson=row["moral_lesson"] or "",
        creator_id=row["creator_id"] or "",
        source=row["source"],
        hidden=bool(row["hidden"]),
        hidden_reason=row["hidden_reason"] or "",
        updated_at=row["updated_at"].isoformat() if row["updated_at"] else "",
    )


async def load_demo(pool: asyncpg.Pool, entries: Sequence[CatalogEntry]) -> None:
    """Idempotent: inserts new demo items, refreshes changed ones, never touches admin edits."""
    await pool.executemany(
        f"INSERT INTO catalog_items ({_COLUMNS}) VALUES ({_VALUES}) ON CONFLICT (kind, item_id) DO UPDATE "
        f"SET {_SET} WHERE catalog_items.source = 'demo' AND {_CHANGED}",
        [_args(e) for e in entries],
    )


async def upsert_item(pool: asyncpg.Pool, entry: CatalogEntry) -> bool:
    """Insert or replace one item; True when it was created."""
    return await pool.fetchval(
        f"INSERT INTO catalog_items ({_COLUMNS}) VALUES ({_VALUES}) ON CONFLICT (kind, item_id) DO UPDATE "
        f"SET {_SET} RETURNING (xmax = 0)",
        *_args(entry),
    )


async def upsert_stories(pool: asyncpg.Pool, entries: Sequence[CatalogEntry]) -> None:
    """Stories derived from events: created once, refreshed only while still event-sourced."""
    if entries:
        await pool.executemany(
            f"INSERT INTO catalog_items ({_COLUMNS}) VALUES ({_VALUES}) "
            f"ON CONFLICT (kind, item_id) DO UPDATE "
            f"SET {_SET} WHERE catalog_items.source = 'events' AND {_CHANGED}",
            [_args(e) for e in entries],
            timeout=long_statement_timeout(pool),
        )


async def get_item(pool: asyncpg.Pool, kind: str, item_id: str) -> CatalogEntry | None:
    row = await pool.fetchrow(f"{_SELECT} WHERE c.kind = $1 AND c.item_id = $2", kind, item_id)
    return entry_of(row) if row else None


async def all_items(pool: asyncpg.Pool | asyncpg.Connection) -> list[CatalogEntry]:
    """Oldest change first, so that dict order (and "the most recent N") follows updated_at."""
    return [entry_of(r) for r in await pool.fetch(f"{_SELECT} ORDER BY c.updated_at, c.kind, c.item_id")]


async def list_items(
    pool: asyncpg.Pool, kind: str, after: str, limit: int, include_hidden: bool, age: tuple[int, int] | None
) -> list[CatalogEntry]:
    rows = await pool.fetch(
        f"""{_SELECT}
         WHERE c.kind = $1 AND c.item_id > $2
           AND ($3 OR h.item_id IS NULL)
           AND ($4::int IS NULL OR (c.min_age <= $4 AND c.max_age >= $5))
         ORDER BY c.item_id LIMIT $6""",
        kind,
        after,
        include_hidden,
        age[0] if age else None,
        age[1] if age else None,
        limit,
    )
    return [entry_of(r) for r in rows]


# NOTIFY on every committed change to catalog_items or hidden_items (migrations/0007).
CATALOG_CHANNEL = "reco_catalog"


async def catalog_with_fingerprint(pool: asyncpg.Pool) -> tuple[tuple, list[CatalogEntry]]:
    """Every item and the fingerprint of that same state (one repeatable-read snapshot)."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        return await fingerprint(conn), await all_items(conn)


async def fingerprint(pool: asyncpg.Pool | asyncpg.Connection) -> tuple:
    """Changes whenever an item or the moderation state changes (cheap: two index scans)."""
    row = await pool.fetchrow(
        """SELECT (SELECT count(*) FROM catalog_items) AS items,
                  (SELECT max(updated_at) FROM catalog_items) AS updated,
                  (SELECT count(*) FROM hidden_items) AS hides,
                  (SELECT max(greatest(hidden_at, coalesce(cleared_at, hidden_at)))
                     FROM hidden_items) AS moderated,
                  (SELECT count(*) FROM hidden_items WHERE cleared_at IS NOT NULL) AS cleared"""
    )
    return tuple(row.values())


async def hide(pool: asyncpg.Pool, kind: str, item_id: str, reason: str) -> None:
    """Idempotent: the partial unique index keeps one current row per item."""
    await pool.execute(
        """INSERT INTO hidden_items (item_type, item_id, reason, hidden_at)
           VALUES ($1, $2, $3, clock_timestamp())
           ON CONFLICT (item_type, item_id) WHERE cleared_at IS NULL DO NOTHING""",
        kind,
        item_id,
        reason,
    )


async def unhide(pool: asyncpg.Pool, kind: str, item_id: str) -> None:
    await pool.execute(
        "UPDATE hidden_items SET cleared_at = clock_timestamp() "
        "WHERE item_type = $1 AND item_id = $2 AND cleared_at IS NULL",
        kind,
        item_id,
    )


# --- interactions ---------------------------------------------------------------------------

INTERACTION_TYPES = sorted(INTERACTION_EVENT_TYPES)
_COLUMNS_READ = (
    "event_id, user_id, event_type, ts, story_id, universes, characters, theme, moral_lesson, "
    "age_group, device_type, recommendation_type, item_id, rating, duration, position"
)
# What counts as an interaction: the interaction events, and ratings of RATING_WEIGHTS.
_COUNTS = f"(event_type = ANY($2::text[]) OR (event_type = '{RATED}' AND rating = ANY($3::smallint[])))"


def _kinds() -> tuple[list[str], list[int]]:
    return list(INTERACTION_TYPES), list(RATING_WEIGHTS)


async def record_interactions(pool: asyncpg.Pool, facts: Sequence[EventFacts]) -> int:
    """Keep interactions (events and ratings from the bus) in the engine's own table; a fact
    stored already (a redelivery) is left as it is. The number stored now."""
    if not facts:
        return 0
    status = await pool.execute(
        """INSERT INTO reco_interactions (event_id, user_id, event_type, ts, story_id, universes,
                                          characters, theme, moral_lesson, age_group, device_type,
                                          recommendation_type, item_id, rating, duration, position)
           SELECT x.event_id, x.user_id, x.event_type, x.ts, nullif(x.story_id, ''),
                  ARRAY(SELECT jsonb_array_elements_text(x.universes::jsonb)),
                  ARRAY(SELECT jsonb_array_elements_text(x.characters::jsonb)),
                  nullif(x.theme, ''), nullif(x.moral_lesson, ''), nullif(x.age_group, ''),
                  nullif(x.device_type, ''), nullif(x.recommendation_type, ''), nullif(x.item_id, ''),
                  nullif(x.rating, 0), x.duration, x.position
             FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[],
                         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
                         $13::text[], $14::smallint[], $15::float8[], $16::real[])
                  AS x(event_id, user_id, event_type, ts, story_id, universes, characters, theme,
                       moral_lesson, age_group, device_type, recommendation_type, item_id, rating,
                       duration, position)
           ON CONFLICT (event_id) DO NOTHING""",
        [f.event_id for f in facts],
        [f.user_id for f in facts],
        [f.event_type for f in facts],
        [f.ts for f in facts],
        [f.story_id for f in facts],
        [json.dumps(list(f.universes)) for f in facts],
        [json.dumps(list(f.characters)) for f in facts],
        [f.theme for f in facts],
        [f.moral_lesson for f in facts],
        [f.age_group for f in facts],
        [f.device_type for f in facts],
        [f.recommendation_type for f in facts],
        [f.item_id for f in facts],
        [f.rating for f in facts],
        [f.duration for f in facts],
        [f.position for f in facts],
    )
    return int(status.rsplit(" ", 1)[1])


async def record_age_groups(pool: asyncpg.Pool, latest: dict[str, tuple[str, datetime]]) -> None:
    """{user: (age group, time of the event that carried it)}: kept where newer than the one known."""
    if not latest:
        return
    users = list(latest)
    await pool.execute(
        """INSERT INTO reco_user_age_groups (user_id, age_group, ts)
           SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
           ON CONFLICT (user_id) DO UPDATE SET age_group = EXCLUDED.age_group, ts = EXCLUDED.ts
            WHERE EXCLUDED.ts > reco_user_age_groups.ts""",
        users,
        [latest[u][0] for u in users],
        [latest[u][1] for u in users],
    )


async def interaction_events(pool: asyncpg.Pool, since: datetime, batch: int = 20_000) -> AsyncIterator[list]:
    """Every interaction (events and ratings) since `since`, in batches (a server-side cursor)."""
    async with pool.acquire() as conn, conn.transaction():
        # Users whose data was erased stay out of training, even for events that came later.
        query = f"""SELECT {_COLUMNS_READ} FROM reco_interactions
                     WHERE ts >= $1 AND {_COUNTS}
                       AND {await not_erased_if_tracked(conn, "reco_interactions.user_id")}"""
        rows: list = []
        # Training reads months of events: each batch may take longer than a request's query.
        cursor = conn.cursor(query, since, *_kinds(), prefetch=batch, timeout=long_statement_timeout(pool))
        async for row in cursor:
            rows.append(row)
            if len(rows) >= batch:
                yield rows
                rows = []
        if rows:
            yield rows


async def events_stored_after(
    pool: asyncpg.Pool, after: datetime | None, since: datetime, limit: int
) -> list:
    """Interaction events (not ratings) stored after `after` (any when None) with a timestamp
    since `since`, oldest stored first, with their stored_at: the bootstrap model's
    incremental read."""
    async with pool.acquire() as conn:
        return await conn.fetch(
            f"""SELECT {_COLUMNS_READ}, stored_at FROM reco_interactions
                 WHERE stored_at > $1 AND ts >= $2 AND event_type = ANY($3::text[])
                   AND {await not_erased_if_tracked(conn, "reco_interactions.user_id")}
                 ORDER BY stored_at LIMIT $4""",
            after or datetime.min.replace(tzinfo=UTC),
            since,
            list(INTERACTION_TYPES),
            limit,
        )


async def user_events(pool: asyncpg.Pool, user_id: str, since: datetime, limit: int) -> list:
    """One user's most recent interaction events and ratings (lazy feature loading), newest first."""
    return await pool.fetch(
        f"""SELECT {_COLUMNS_READ} FROM reco_interactions
             WHERE user_id = $4 AND ts >= $1 AND {_COUNTS}
             ORDER BY ts DESC LIMIT $5""",
        since,
        *_kinds(),
        user_id,
        limit,
    )


async def latest_age_groups(pool: asyncpg.Pool, since: datetime) -> dict[str, str]:
    rows = await pool.fetch(
        "SELECT user_id, age_group FROM reco_user_age_groups WHERE ts >= $1",
        since,
        timeout=long_statement_timeout(pool),
    )
    return {r["user_id"]: r["age_group"] for r in rows}


async def has_interactions(pool: asyncpg.Pool) -> bool:
    """Whether any event carries an interaction (something for a first training to learn)."""
    return await pool.fetchval(
        "SELECT EXISTS (SELECT 1 FROM reco_interactions WHERE event_type = ANY($1::text[]))",
        list(INTERACTION_TYPES),
    )


# --- model registry ----------------------------------------------------------------------------

NOTIFY_CHANNEL = "reco_models"


async def register_version(
    pool: asyncpg.Pool,
    version: str,
    location: str,
    metrics: dict,
    description: str,
    activate: bool,
    sha256: str | None = None,
    size_bytes: int | None = None,
    tuning: dict | None = None,
) -> None:
    """Record a version whose artifact is already stored at `location` (with its sha256)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO reco_model_versions "
            "(version, path, metrics, description, sha256, size_bytes, tuning) "
            "VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7::jsonb)",
            version,
            location,
            json.dumps(metrics),
            description,
            sha256,
            size_bytes,
            json.dumps(tuning) if tuning else None,
        )
        if activate:
            await _activate(conn, version)


async def _activate(conn: asyncpg.Connection, version: str) -> None:
    await conn.execute(
        "UPDATE reco_model_versions SET active = false WHERE active AND version <> $1", version
    )
    await conn.execute(
        "UPDATE reco_model_versions SET active = true, activated_at = clock_timestamp() WHERE version = $1",
        version,
    )
    await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, version)


async def activate(pool: asyncpg.Pool, version: str) -> bool:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("LOCK TABLE reco_model_versions IN SHARE ROW EXCLUSIVE MODE")
        if not await conn.fetchval("SELECT 1 FROM reco_model_versions WHERE version = $1", version):
            return False
        await _activate(conn, version)
        return True


async def rollback(pool: asyncpg.Pool) -> tuple[str, str] | None:
    """Activate the version that was active before the current one: (now active, replaced) or None."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("LOCK TABLE reco_model_versions IN SHARE ROW EXCLUSIVE MODE")
        current = await conn.fetchrow("SELECT version, activated_at FROM reco_model_versions WHERE active")
        if current is None:
            return None
        previous = await conn.fetchval(
            """SELECT version FROM reco_model_versions
                WHERE NOT active AND activated_at IS NOT NULL AND activated_at < $1
                ORDER BY activated_at DESC LIMIT 1""",
            current["activated_at"],
        )
        if previous is None:
            return None
        await _activate(conn, previous)
        # The rolled-back version goes out of the history so that a second rollback goes further back.
        await conn.execute(
            "UPDATE reco_model_versions SET activated_at = NULL WHERE version = $1", current["version"]
        )
        return previous, current["version"]


async def active_version(pool: asyncpg.Pool) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT version, path, sha256, metrics FROM reco_model_versions WHERE active")


async def get_version(pool: asyncpg.Pool, version: str) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT * FROM reco_model_versions WHERE version = $1", version)


async def newest_version_time(pool: asyncpg.Pool) -> datetime | None:
    return await pool.fetchval("SELECT max(created_at) FROM reco_model_versions")


async def list_versions(pool: asyncpg.Pool, limit: int) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT * FROM reco_model_versions ORDER BY created_at DESC LIMIT $1", limit)
