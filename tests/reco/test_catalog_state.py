"""The live catalog keeps a change it applied while a reload was reading PostgreSQL, and learns
of every change another process commits.

A reload's read can start before another task's write commits; swapping in what it read must
not take back the change that task already applied to the snapshot (seen as a replica answering
NOT_FOUND for a story it had just stored). And a write that commits after a later one leaves the
poll's fingerprint as it was: the NOTIFY sent at its commit must bring it in.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import asyncpg
import pytest

from common.notifications import Notifications
from reco_svc import store
from reco_svc.catalog import CatalogEntry
from reco_svc.catalog_state import CatalogState


async def _reload_waiting_on_a_lock(db, catalog: CatalogState) -> tuple[asyncio.Task, object]:
    """Start a reload that waits while another connection holds catalog_items exclusively."""
    locker = await db.acquire()
    tx = locker.transaction()
    await tx.start()
    await locker.execute("LOCK TABLE catalog_items IN ACCESS EXCLUSIVE MODE")
    reload = asyncio.create_task(catalog.reload())
    for _ in range(200):
        waiting = await locker.fetchval(
            """SELECT count(*) FROM pg_stat_activity
                WHERE wait_event_type = 'Lock' AND datname = current_database()"""
        )
        if waiting:
            break
        await asyncio.sleep(0.01)
    assert waiting, "the reload never waited on the lock"
    return reload, (locker, tx)


async def _release(db, held) -> None:
    locker, tx = held
    await tx.rollback()
    await db.release(locker)


async def test_an_item_put_during_a_reload_survives_the_swap(reco, db):
    catalog = CatalogState(db)
    await catalog.reload()
    story = CatalogEntry("story", f"story-{uuid.uuid4().hex[:8]}", "New", 4, 8, source="story_creation")

    reload, held = await _reload_waiting_on_a_lock(db, catalog)
    catalog.put(story)  # as the live follower does right after its write commits
    await _release(db, held)
    await reload

    assert catalog.snapshot.get("story", story.id) == story


async def test_a_hide_applied_during_a_reload_survives_the_swap(reco, db):
    catalog = CatalogState(db)
    await catalog.reload()
    story = CatalogEntry("story", f"story-{uuid.uuid4().hex[:8]}", "A story", 4, 8, source="story_creation")
    await store.upsert_stories(db, [story])
    await catalog.reload()

    reload, held = await _reload_waiting_on_a_lock(db, catalog)
    catalog.set_hidden("story", story.id, True, "reported")
    await _release(db, held)
    await reload

    assert catalog.snapshot.get("story", story.id).hidden


@contextlib.asynccontextmanager
async def _listening_catalog(db, on_notify=None):
    """A CatalogState following NOTIFY reco_catalog (and `on_notify`, called after it)."""
    notifications = Notifications(db)
    catalog = CatalogState(db)
    catalog.listen(notifications)
    if on_notify is not None:
        notifications.subscribe(store.CATALOG_CHANNEL, lambda _payload: on_notify())
    await notifications.start()
    try:
        yield catalog
    finally:
        await notifications.aclose()


RENAME = """UPDATE catalog_items SET name = $1, updated_at = clock_timestamp()
             WHERE kind = 'story' AND item_id = $2"""


async def test_a_change_committed_after_a_later_one_reaches_the_snapshot(reco, db):
    async with _listening_catalog(db) as catalog:
        early, later = (
            CatalogEntry("story", f"story-{uuid.uuid4().hex[:8]}", name, 4, 8, source="story_creation")
            for name in ("Early", "Later")
        )
        await store.upsert_stories(db, [early, later])
        await catalog.reload()
        async with db.acquire() as slow:
            tx = slow.transaction()
            await tx.start()
            await slow.execute(RENAME, "Early, renamed", early.id)  # stamped first, committed last
            await db.execute(RENAME, "Later, renamed", later.id)
            await catalog.refresh_if_changed()
            assert catalog.snapshot.get("story", later.id).name == "Later, renamed"
            seen = await store.fingerprint(db)
            await tx.commit()
        # The premise: the fingerprint (count, newest updated_at) does not move.
        assert await store.fingerprint(db) == seen
        for _ in range(200):  # the NOTIFY arrives on the listening connection
            await catalog.refresh_if_changed()
            if catalog.snapshot.get("story", early.id).name == "Early, renamed":
                break
            await asyncio.sleep(0.01)
        assert catalog.snapshot.get("story", early.id).name == "Early, renamed"


async def test_a_notified_change_is_read_again_after_a_failed_reload(reco, db):
    arrived = asyncio.Event()
    async with _listening_catalog(db, on_notify=arrived.set) as catalog:
        story = CatalogEntry(
            "story", f"story-{uuid.uuid4().hex[:8]}", "Before", 4, 8, source="story_creation"
        )
        await store.upsert_stories(db, [story])
        await catalog.reload()
        # A rename that keeps its stamp: only the NOTIFY tells of it.
        await db.execute(
            "UPDATE catalog_items SET name = 'After' WHERE kind = 'story' AND item_id = $1", story.id
        )
        await asyncio.wait_for(arrived.wait(), 5)
        await db.execute("ALTER TABLE catalog_items RENAME TO catalog_items_away")
        try:
            with pytest.raises(asyncpg.UndefinedTableError):
                await catalog.refresh_if_changed()  # the notified reload fails
        finally:
            await db.execute("ALTER TABLE catalog_items_away RENAME TO catalog_items")
        assert catalog.snapshot.get("story", story.id).name == "Before"

        await catalog.refresh_if_changed()

        assert catalog.snapshot.get("story", story.id).name == "After"
