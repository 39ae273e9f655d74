"""Group commit of ingested events (common/group_commit.py): concurrent ingestion calls share
one transaction, and each call learns which of its event ids were new.

A group goes straight into events by COPY (store.copy_group) while duplicates are
rare: most groups hold only new event_ids, and a plain bulk load costs PostgreSQL
far less than INSERT … ON CONFLICT. A group that hits an existing event_id is
rolled back and written again through the staging table with ON CONFLICT
(store.insert_group), which also tells which ids were new; later groups take that
path too until one comes without any duplicate (retries tend to come in bursts).

    writer = GroupCommitWriter(pool)
    new_ids = await writer.write(rows, rejections, source="grpc")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter

import asyncpg

from analytics_svc.ingestion import store
from analytics_svc.ingestion.prepare import Rejection
from common import pg_timestamps
from common.group_commit import GroupCommit

_event_id = itemgetter(0)


@dataclass
class _Pending:
    rows: Sequence[tuple]
    rejections: Sequence[Rejection]
    source: str


class GroupCommitWriter(GroupCommit[_Pending, set]):
    def __init__(
        self, pool: asyncpg.Pool, max_rows: int = 5000, parallel_flushes: int = 2, max_pending_rows: int = 0
    ) -> None:
        super().__init__(
            pool,
            self._store_group,
            name="events group commit",
            size=lambda item: len(item.rows),
            max_rows=max_rows,
            parallel_flushes=parallel_flushes,
            # Backpressure: past this many queued rows callers are told to retry (0: unbounded).
            max_pending=max_pending_rows,
            full_message="ingestion queue is full, retry shortly",
            # Every row holds two timestamps: asyncpg's codec was a third of COPY's encoding.
            setup=pg_timestamps.install,
            teardown=pg_timestamps.uninstall,
        )
        self._copy_direct = True  # False after a group with duplicates (module docstring)

    async def write(self, rows: Sequence[tuple], rejections: Sequence[Rejection], source: str) -> set[str]:
        """The event ids of `rows` that this call stored (the others were known already)."""
        return await self.submit(_Pending(rows, rejections, source))

    async def _store_group(self, conn: asyncpg.Connection, group: list[_Pending]) -> list[set[str]]:
        rows = [row for item in group for row in item.rows]
        failed = [(r, item.source) for item in group for r in item.rejections]
        new_ids = await self._store(conn, rows, failed)
        if new_ids is None:  # COPY took them all: every event_id of the group was new, and once
            return [set(map(_event_id, item.rows)) for item in group]
        # The same event_id may come in two concurrent calls: the first one claims it.
        claimed = []
        for item in group:
            mine = {row[0] for row in item.rows if row[0] in new_ids}
            new_ids -= mine
            claimed.append(mine)
        return claimed

    async def _store(self, conn: asyncpg.Connection, rows: list[tuple], failed: list) -> set[str] | None:
        """The event_ids that were new, or None when all were (and distinct)."""
        if rows and self._copy_direct:
            try:
                await store.copy_group(conn, rows, failed)
                return None
            except asyncpg.exceptions.UniqueViolationError:
                self._copy_direct = False
        new_ids = await store.insert_group(conn, rows, failed)
        self._copy_direct = len(new_ids) == len(rows)
        return set(new_ids)
