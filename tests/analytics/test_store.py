"""The group-commit write path: COPY straight into events, or into a staging table then INSERT … SELECT."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from analytics_svc.ingestion import prepare as ingest
from analytics_svc.ingestion import store
from tests.events import event


async def test_group_is_stored_once_with_its_rejections(db, analytics):  # analytics: migrations applied
    now = datetime.now(UTC)
    good = [event() for _ in range(3)]
    good[0].properties.extras.update({"language": "en", "pages": 3})
    bad = ingest.prepare([event(user_id="has space")], now).rejections
    rows = ingest.prepare(good, now).rows
    async with db.acquire() as conn:
        first = await store.insert_group(conn, rows, [(bad[0], "grpc")])
        second = await store.insert_group(conn, rows, [])  # replay: nothing new
        third = await store.insert_group(conn, [], [(bad[0], "kafka")])
    assert first == {e.event_id for e in good}
    assert second == set() and third == set()
    stored = await db.fetch("SELECT * FROM events WHERE event_id = ANY($1)", [e.event_id for e in good])
    assert len(stored) == 3
    by_id = {r["event_id"]: r for r in stored}
    assert json.loads(by_id[good[0].event_id]["props"])["extras"] == {"language": "en", "pages": 3}
    assert by_id[good[0].event_id]["universes"] == ["dragon-ball", "toy-story"]
    sources = await db.fetch(
        "SELECT source FROM failed_events WHERE event_id = $1 ORDER BY id", bad[0].event_id
    )
    assert [r["source"] for r in sources] == ["grpc", "kafka"]
    assert await db.fetchval("SELECT count(*) FROM pg_temp.events_stage") == 0  # emptied at COMMIT


async def test_writer_keeps_a_connection_per_flush_slot_and_gives_them_back(db, analytics):
    import asyncio

    from analytics_svc.ingestion.writer import GroupCommitWriter

    writer = GroupCommitWriter(db, parallel_flushes=2)
    rows = ingest.prepare([event() for _ in range(20)], datetime.now(UTC)).rows
    results = await asyncio.gather(*(writer.write([row], [], "grpc") for row in rows))
    assert set().union(*results) == {row[0] for row in rows}
    assert 1 <= len(writer._kept) <= 2
    await writer.aclose()
    assert writer._kept == []


async def test_direct_copy_stores_nothing_on_a_known_id_and_the_writer_falls_back(db, analytics):
    import asyncpg
    import pytest

    from analytics_svc.ingestion.writer import GroupCommitWriter

    now = datetime.now(UTC)
    rows = ingest.prepare([event() for _ in range(3)], now).rows
    bad = ingest.prepare([event(user_id="has space")], now).rejections
    async with db.acquire() as conn:
        await store.copy_group(conn, rows[:1], [])
        with pytest.raises(asyncpg.exceptions.UniqueViolationError):
            await store.copy_group(conn, rows, [(bad[0], "grpc")])
    ids = [row[0] for row in rows]
    assert await db.fetchval("SELECT count(*) FROM events WHERE event_id = ANY($1)", ids) == 1
    failed = "SELECT count(*) FROM failed_events WHERE event_id = $1"
    assert await db.fetchval(failed, bad[0].event_id) == 0

    writer = GroupCommitWriter(db)
    try:
        # The COPY fails on the known id; the staging path stores the rest and says which were new.
        assert await writer.write(rows, bad, "grpc") == set(ids[1:])
        assert not writer._copy_direct
        assert await db.fetchval("SELECT count(*) FROM events WHERE event_id = ANY($1)", ids) == 3
        assert await db.fetchval(failed, bad[0].event_id) == 1
        # A group without duplicates (through the staging path) turns the direct COPY back on.
        fresh = ingest.prepare([event() for _ in range(2)], now).rows
        assert await writer.write(fresh, [], "grpc") == {row[0] for row in fresh}
        assert writer._copy_direct
    finally:
        await writer.aclose()
