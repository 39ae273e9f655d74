"""The moderation loop: stories hidden by a safety alert wait here for a person.

clear: the story is unhidden (hidden_items.cleared_at), its safety alerts are
resolved and "catalog.visibility" tells the recommender it may be shown again.
keep_hidden: the queue item is closed and the alerts resolved, the story stays
hidden. A later safety report opens a new queue item.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import asyncpg

from common.bus import EventBus
from common.errors import NotFound
from feedback_svc import store
from feedback_svc.alerts import publish_visibility

log = logging.getLogger(__name__)
STATUS_OF = {"clear": "cleared", "keep_hidden": "kept_hidden"}


class Moderation:
    def __init__(
        self, pool: asyncpg.Pool, bus: EventBus, on_decided: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self.pool = pool
        self.bus = bus
        # Told after each decision (the sentiment accuracy gauge counts moderators' verdicts).
        self.on_decided = on_decided

    async def pending(self, limit: int) -> list[asyncpg.Record]:
        return await store.pending_moderation(self.pool, limit)

    async def decide(self, story_id: str, decision: str, note: str) -> asyncpg.Record:
        unhidden = False
        async with self.pool.acquire() as conn, conn.transaction():
            item = await store.decide_moderation(conn, story_id, STATUS_OF[decision], decision, note)
            if item is None:
                raise NotFound(f"story {story_id} is not waiting for moderation")
            await store.resolve_alerts(conn, "story", story_id, "safety", f"moderation: {decision}")
            if decision == "clear":
                unhidden = await store.unhide_story(conn, story_id)
        if unhidden:
            await publish_visibility(self.bus, story_id, False, f"cleared by a moderator: {note}".strip(": "))
        if self.on_decided is not None:
            try:
                await self.on_decided()
            except Exception:  # noqa: BLE001 - the decision is committed; a metric may lag
                log.warning("could not refresh after a moderation decision", exc_info=True)
        return item
