"""The moderation loop: stories hidden by a safety alert wait here for a person.

clear: the story is unhidden (hidden_items.cleared_at), its safety alerts are
resolved and "catalog.visibility" tells the recommender it may be shown again.
keep_hidden: the queue item is closed and the alerts resolved, the story stays
hidden. A later safety report opens a new queue item.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from common.bus import EventBus
from common.errors import NotFound
from feedback_svc import store
from feedback_svc.alerts.desk import publish_visibility
from feedback_svc.times import rfc3339

log = logging.getLogger(__name__)
STATUS_OF = {"clear": "cleared", "keep_hidden": "kept_hidden"}


@dataclass(frozen=True)
class Item:
    story_id: str
    reason: str
    status: str
    created_at: str
    alert_ids: list[str]
    decision: str
    note: str
    decided_at: str


def item_of(r: asyncpg.Record) -> Item:
    return Item(
        story_id=r["story_id"],
        reason=r["reason"],
        status=r["status"],
        created_at=rfc3339(r["created_at"]),
        alert_ids=list(r["alert_ids"]),
        decision=r["decision"] or "",
        note=r["note"] or "",
        decided_at=rfc3339(r["decided_at"]),
    )


class Moderation:
    def __init__(
        self, pool: asyncpg.Pool, bus: EventBus, on_decided: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self.pool = pool
        self.bus = bus
        # Told after each decision (the sentiment accuracy gauge counts moderators' verdicts).
        self.on_decided = on_decided

    async def pending(self, limit: int) -> list[Item]:
        return [item_of(r) for r in await store.pending_moderation(self.pool, limit)]

    async def decide(self, story_id: str, decision: str, note: str) -> Item:
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
        return item_of(item)
