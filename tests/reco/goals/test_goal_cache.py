"""Each replica caches children's goals (a query per Recommend was the machine's margin at
500/s); a change made through another replica must still show at once, not after the cache's
CACHE_SECONDS."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from common.notifications import Notifications
from reco_svc import goal_store
from reco_svc.catalog import CatalogEntry, CatalogSnapshot
from reco_svc.goals import CACHE_SECONDS, GoalBook

SNAPSHOT = CatalogSnapshot.from_entries([CatalogEntry("moral_lesson", "patience", "Patience", 3, 17)])


async def _until(book: GoalBook, child: str, wanted: list[str], seconds: float = 3.0) -> list[str]:
    found: list[str] = []
    for _ in range(int(seconds / 0.05)):
        found = [g.id for g in await book.of(child)]
        if found == wanted:
            break
        await asyncio.sleep(0.05)
    return found


async def test_a_goal_set_or_cleared_through_one_replica_shows_in_the_others_cache_at_once(
    db: asyncpg.Pool, reco
):
    first, second = GoalBook(db, lambda: SNAPSHOT), GoalBook(db, lambda: SNAPSHOT)
    listeners = [Notifications(db), Notifications(db)]  # one per replica
    for book, notifications in zip((first, second), listeners, strict=True):
        book.listen(notifications)
        await notifications.start()
    try:
        child = f"kid-{uuid.uuid4().hex[:10]}"
        assert await first.of(child) == []  # cached: no goals
        assert CACHE_SECONDS > 10  # so only the notification can explain a prompt change

        await second.set(child, ["patience", "curiosity"])
        assert await _until(first, child, ["patience", "curiosity"]) == ["patience", "curiosity"]

        await second.clear(child)
        assert await _until(first, child, []) == []
        assert [g.id for g in await second.of(child)] == []
    finally:
        for notifications in listeners:
            await notifications.aclose()


async def test_a_read_that_a_change_overtook_is_answered_but_not_cached(db: asyncpg.Pool, reco):
    """The notification of a change committed while this replica's read was in flight arrives
    before the read's answer, which may predate the change: caching it would keep it 60 s."""
    book = GoalBook(db, lambda: SNAPSHOT)
    child = f"kid-{uuid.uuid4().hex[:10]}"
    await goal_store.replace_goals(db, child, ["patience"])
    read = asyncio.create_task(book.of(child))
    await asyncio.sleep(0)  # the read is waiting for PostgreSQL
    book._changed(child)  # what the listener calls with the notification's payload
    assert [g.id for g in await read] == ["patience"]
    # The change itself (written here without its notification, which was heard above).
    await db.execute("UPDATE reco_goals SET goal = 'curiosity' WHERE user_id = $1", child)
    assert [g.id for g in await book.of(child)] == ["curiosity"]
