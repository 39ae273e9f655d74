"""The live catalog of one service process: a snapshot swapped on every change.

- start: upsert the demo catalog (idempotent), read everything from PostgreSQL;
- admin RPCs and live story_creation events update PostgreSQL, then the snapshot at once;
- changes made by other processes (other replicas; hidden_items written from the feedback
  service's catalog.visibility messages, live.py) arrive within SV_RECO_CATALOG_POLL_SECONDS:
  each poll reloads the snapshot when a NOTIFY reco_catalog came since the last reload (sent at
  commit by a trigger, migrations/0007; a lost LISTEN connection counts as one) or when a cheap
  fingerprint changed. A visibility message is applied to the snapshot at once.

A change applied here while a reload is reading PostgreSQL is applied again over the reloaded
snapshot: the read may have started before the change's write committed, and the swap must not
undo it until the next poll.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import asyncpg

from common.notifications import Notifications
from common.periodic import Periodic
from reco_svc import store
from reco_svc.catalog import CatalogEntry, CatalogSnapshot, demo_entries

log = logging.getLogger(__name__)


class CatalogState:
    def __init__(self, pool: asyncpg.Pool, poll_seconds: float = 2.0) -> None:
        self.pool = pool
        self.poll_seconds = poll_seconds
        self.snapshot = CatalogSnapshot()
        self.generation = 0
        self._fingerprint: tuple | None = None
        self._poll = Periodic("catalog refresh", self.refresh_if_changed, poll_seconds)
        self._lock = asyncio.Lock()
        self._during_reload: list[Callable[[CatalogSnapshot], CatalogSnapshot]] | None = None
        # A change was committed since the last reload began (NOTIFY, or notifications lost).
        self._notified = False

    def listen(self, notifications: Notifications) -> None:
        """Reload at the next poll after a committed change (before notifications.start(); a
        NOTIFY between the start of a reload and its read makes the next poll read again)."""
        notifications.subscribe(store.CATALOG_CHANNEL, lambda _payload: self._changed(), self._changed)

    def _changed(self) -> None:
        # Not a wake: a burst of stories costs one reload per poll, not one per story.
        self._notified = True

    async def start(self, demo_path: Path | None) -> None:
        if demo_path is not None and demo_path.is_file():
            entries = demo_entries(demo_path)
            await store.load_demo(self.pool, entries)
            log.info("demo catalog loaded", extra={"fields": {"items": len(entries), "path": str(demo_path)}})
        elif demo_path is not None:
            log.warning("demo catalog not found", extra={"fields": {"path": str(demo_path)}})
        await self.reload()
        self._poll.start()

    def _swap(self, snapshot: CatalogSnapshot) -> None:
        self.snapshot = snapshot
        self.generation += 1

    def _apply(self, change: Callable[[CatalogSnapshot], CatalogSnapshot]) -> None:
        if self._during_reload is not None:
            self._during_reload.append(change)
        changed = change(self.snapshot)
        if changed is not self.snapshot:
            self._swap(changed)

    async def reload(self) -> None:
        async with self._lock:
            self._during_reload = []
            self._notified = False  # what commits from here on is read now or notified again
            try:
                fingerprint, entries = await store.catalog_with_fingerprint(self.pool)
                snapshot = CatalogSnapshot.from_entries(entries)
                for change in self._during_reload:
                    snapshot = change(snapshot)
            except BaseException:
                self._notified = True  # nothing was read: the next poll reads again
                raise
            finally:
                self._during_reload = None
            self._swap(snapshot)
            self._fingerprint = fingerprint

    async def refresh_if_changed(self) -> None:
        if self._notified or await store.fingerprint(self.pool) != self._fingerprint:
            await self.reload()

    def put(self, entry: CatalogEntry) -> None:
        """An entry just written to PostgreSQL by this process."""
        self._apply(lambda snapshot: snapshot.with_entry(entry))

    def put_many(self, entries: list[CatalogEntry]) -> None:
        def with_all(snapshot: CatalogSnapshot) -> CatalogSnapshot:
            for entry in entries:
                snapshot = snapshot.with_entry(entry)
            return snapshot

        if entries:
            self._apply(with_all)

    async def forget_creator(self, creator_id: str) -> None:
        """Erasure: the user's own stories leave this snapshot now; PostgreSQL's rows go in the
        erasure job (reco_svc/erasure.py), which the poll then confirms."""
        self._apply(lambda snapshot: snapshot.without_creator(creator_id))

    def set_hidden(self, kind: str, item_id: str, hidden: bool, reason: str = "") -> None:
        self._apply(lambda snapshot: snapshot.with_hidden(kind, item_id, hidden, reason))

    async def aclose(self) -> None:
        await self._poll.stop()  # a failed refresh is logged; the last snapshot keeps serving
