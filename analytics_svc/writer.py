"""Group commit: concurrent ingestion calls share one transaction.

Each call hands its rows to the writer and waits; a flusher takes everything
pending (up to max_rows), writes it in one transaction and then wakes every caller
with the ids that were new. One fsync serves many calls, and a call is still
answered only after its rows are committed.

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

import asyncio
import contextvars
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from analytics_svc import store
from analytics_svc.ingest import Rejection
from common import telemetry
from common.errors import ResourceExhausted

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    rows: Sequence[tuple]
    rejections: Sequence[Rejection]
    source: str
    done: asyncio.Future
    span: object = None  # the caller's span context: the flush shows in its trace


class GroupCommitWriter:
    def __init__(
        self, pool: asyncpg.Pool, max_rows: int = 5000, parallel_flushes: int = 2, max_pending_rows: int = 0
    ) -> None:
        self.pool = pool
        self.max_rows = max_rows
        # Backpressure: rows waiting for a flush are bounded (0: unbounded); past it callers
        # are told to retry instead of the queue growing while PostgreSQL is slow.
        self.max_pending_rows = max_pending_rows
        self._pending_rows = 0
        self._pending: list[_Pending] = []
        self._wakeup = asyncio.Event()
        self._slots = asyncio.Semaphore(parallel_flushes)
        self._task: asyncio.Task | None = None
        self._flushes: set[asyncio.Task] = set()
        # Connections kept between flushes (at most one per flush slot): giving one back
        # to the pool costs a reset query, one more round trip and server work per flush.
        self._kept: list[asyncpg.Connection] = []
        self._copy_direct = True  # False after a group with duplicates (module docstring)

    async def write(self, rows: Sequence[tuple], rejections: Sequence[Rejection], source: str) -> set[str]:
        if self._task is None:
            # A fresh context: the flusher outlives the request that happened to start it.
            self._task = asyncio.create_task(self._run(), context=contextvars.Context())
        if self.max_pending_rows and self._pending and self._pending_rows + len(rows) > self.max_pending_rows:
            raise ResourceExhausted("ingestion queue is full, retry shortly", retry_after=1)
        done = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(rows, rejections, source, done, telemetry.span_context()))
        self._pending_rows += len(rows)
        self._wakeup.set()
        return await done

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            await self._slots.acquire()
            group, size = [], 0
            while self._pending and (not group or size + len(self._pending[0].rows) <= self.max_rows):
                item = self._pending.pop(0)
                self._pending_rows -= len(item.rows)
                group.append(item)
                size += len(item.rows)
            if not self._pending:
                self._wakeup.clear()
            task = asyncio.create_task(self._flush(group))
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def _flush(self, group: list[_Pending]) -> None:
        try:
            rows = [row for item in group for row in item.rows]
            failed = [(r, item.source) for item in group for r in item.rejections]
            with telemetry.joined_span("events group commit", [item.span for item in group]):
                conn = self._kept.pop() if self._kept else await self.pool.acquire()
                try:
                    new_ids = await self._store(conn, rows, failed)
                except BaseException:
                    await self.pool.release(conn)  # the pool resets it, or replaces it if broken
                    raise
                self._kept.append(conn)
        except Exception as exc:  # noqa: BLE001 - every waiting caller gets the error
            for item in group:
                if not item.done.done():
                    item.done.set_exception(exc)
            return
        finally:
            self._slots.release()
        # The same event_id may come in two concurrent calls: the first one claims it.
        unclaimed = set(new_ids)
        for item in group:
            mine = {row[0] for row in item.rows if row[0] in unclaimed}
            unclaimed -= mine
            if not item.done.done():
                item.done.set_result(mine)

    async def _store(self, conn: asyncpg.Connection, rows: list[tuple], failed: list) -> set[str]:
        if rows and self._copy_direct:
            try:
                await store.copy_group(conn, rows, failed)
                return {row[0] for row in rows}
            except asyncpg.exceptions.UniqueViolationError:
                self._copy_direct = False
        new_ids = await store.insert_group(conn, rows, failed)
        self._copy_direct = len(new_ids) == len(rows)
        return new_ids

    async def aclose(self) -> None:
        while self._pending or self._flushes:
            await asyncio.sleep(0.01)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        while self._kept:
            await self.pool.release(self._kept.pop())
