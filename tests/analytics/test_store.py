"""store.insert_group: the group-commit write path (COPY into a staging table, then INSERT … SELECT)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from analytics_svc import ingest, store
from tests.events import event


async def test_group_is_stored_once_with_its_rejections(db):
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
