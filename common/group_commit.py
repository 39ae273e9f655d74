"""Group commit: concurrent calls share one transaction, and each is answered after its COMMIT.

Each call queues its item and waits; a flusher takes what is pending (up to `max_rows`
rows, in `parallel_flushes` groups at most at once), hands the group to `store` on one
connection and answers every caller with its own result. One fsync and one round trip
serve a whole group, which is what lets many small calls through.

    async def store(conn, items):             # one result per item, in order
        ...
    writer = GroupCommit(pool, store, name="events group commit", size=lambda item: len(item.rows))
    result = await writer.submit(item)

Memory is bounded: with `max_pending` rows already queued a call is refused with
RESOURCE_EXHAUSTED and a retry hint instead of the queue growing while PostgreSQL is slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import asyncpg

from common import telemetry
from common.errors import ResourceExhausted

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    def __init__(
        self,
        pool: asyncpg.Pool,
        store: Callable[[asyncpg.Connection, list[Item]], Awaitable[Sequence[Result]]],
        *,
        name: str,
        size: Callable[[Item], int] = lambda _item: 1,
        max_rows: int = 1000,
        parallel_flushes: int = 2,
        max_pending: int = 0,
        full_message: str = "too many writes waiting, retry shortly",
        setup: Callable[[asyncpg.Connection], Awaitable[None]] | None = None,
        teardown: Callable[[asyncpg.Connection], Awaitable[None]] | None = None,
    ) -> None:
        self.pool = pool
        self.store = store
        self.name = name
        self.size = size
        self.max_rows = max_rows
        self.max_pending = max_pending  # rows queued at most (0: unbounded)
        self.full_message = full_message
        # Run on a connection when the writer takes it from the pool / before giving it back
        # (e.g. codecs of its own: pg_timestamps).
        self.setup, self.teardown = setup, teardown
        self._pending: list[tuple[Item, int, asyncio.Future, object]] = []
        self._pending_rows = 0
        self._wakeup = asyncio.Event()
        self._slots = asyncio.Semaphore(parallel_flushes)
        self._task: asyncio.Task | None = None
        self._flushes: set[asyncio.Task] = set()
        # Connections kept between flushes (at most one per flush slot): giving one back to
        # the pool costs a reset query, one more round trip and server work per flush.
        self._kept: list[asyncpg.Connection] = []

    async def submit(self, item: Item) -> Result:
        rows = self.size(item)
        if self.max_pending and self._pending and self._pending_rows + rows > self.max_pending:
            raise ResourceExhausted(self.full_message, retry_after=1)
        if self._task is None:
            # A fresh context: the flusher outlives the request that happened to start it.
            self._task = asyncio.create_task(self._run(), context=contextvars.Context())
        done = asyncio.get_running_loop().create_future()
        # The caller's span context: the flush shows in its trace.
        self._pending.append((item, rows, done, telemetry.span_context()))
        self._pending_rows += rows
        self._wakeup.set()
        return await done

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            await self._slots.acquire()
            group, size = [], 0
            while self._pending and (not group or size + self._pending[0][1] <= self.max_rows):
                entry = self._pending.pop(0)
                self._pending_rows -= entry[1]
                group.append(entry)
                size += entry[1]
            if not self._pending:
                self._wakeup.clear()
            if not group:
                self._slots.release()
                continue
            task = asyncio.create_task(self._flush(group))
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def _flush(self, group: list[tuple[Item, int, asyncio.Future, object]]) -> None:
        try:
            with telemetry.joined_span(self.name, [span for *_, span in group]):
                conn = self._kept.pop() if self._kept else await self._acquire()
                try:
                    results = await self.store(conn, [item for item, *_ in group])
                except BaseException:
                    await self._release(conn)  # the pool resets it, or replaces it if broken
                    raise
                self._kept.append(conn)
        except Exception as exc:  # noqa: BLE001 - every waiting caller gets the error
            for _, _, done, _ in group:
                if not done.done():
                    done.set_exception(exc)
            return
        finally:
            self._slots.release()
        for (_, _, done, _), result in zip(group, results, strict=True):
            if not done.done():
                done.set_result(result)

    async def _acquire(self) -> asyncpg.Connection:
        conn = await self.pool.acquire()
        if self.setup is not None:
            try:
                await self.setup(conn)
            except BaseException:
                await self._release(conn)
                raise
        return conn

    async def _release(self, conn: asyncpg.Connection) -> None:
        if self.teardown is not None and not conn.is_closed():
            with contextlib.suppress(Exception):  # a broken connection: the pool replaces it
                await self.teardown(conn)
        await self.pool.release(conn)

    async def aclose(self) -> None:
        while self._pending or self._flushes:
            await asyncio.sleep(0.01)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        while self._kept:
            await self._release(self._kept.pop())
