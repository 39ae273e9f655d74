"""Group commit for SubmitFeedback: concurrent submissions share one INSERT and one COMMIT.

The pattern of analytics_svc/writer.py: each call queues its row and waits; a flusher
writes everything pending (up to max_rows) in one statement and then answers every
caller. A call is still answered only after its row is committed, and replays stay
idempotent (ON CONFLICT (feedback_id) DO NOTHING). One fsync and one round trip serve
a whole group, which is what lets a surge of single submissions through.

Memory is bounded: with max_pending calls already waiting, a call is refused with
RESOURCE_EXHAUSTED and a retry hint instead of queuing without end.
"""

from __future__ import annotations

import asyncio
import contextvars
from dataclasses import dataclass

import asyncpg

from common.errors import ResourceExhausted
from feedback_svc import store
from feedback_svc.submission import FeedbackRow


@dataclass(frozen=True)
class Stored:
    created: bool  # this call stored the row (False: a replay of a stored feedback_id)
    analyzed: bool  # the row was analysed already (replays only)


class SubmissionWriter:
    def __init__(
        self, pool: asyncpg.Pool, max_rows: int = 1000, parallel_flushes: int = 2, max_pending: int = 5000
    ) -> None:
        self.pool = pool
        self.max_rows = max_rows
        self.max_pending = max_pending
        self._pending: list[tuple[FeedbackRow, asyncio.Future]] = []
        self._waiting = 0  # calls not answered yet: queued or being flushed
        self._wakeup = asyncio.Event()
        self._slots = asyncio.Semaphore(parallel_flushes)
        self._task: asyncio.Task | None = None
        self._flushes: set[asyncio.Task] = set()
        self._kept: list[asyncpg.Connection] = []  # a pool release costs a reset round trip

    async def write(self, row: FeedbackRow) -> Stored:
        if self._waiting >= self.max_pending:
            raise ResourceExhausted("too many submissions waiting to be stored, retry shortly", retry_after=1)
        if self._task is None:
            # A fresh context: the flusher outlives the request that happened to start it.
            self._task = asyncio.create_task(self._run(), context=contextvars.Context())
        done = asyncio.get_running_loop().create_future()
        self._pending.append((row, done))
        self._waiting += 1
        self._wakeup.set()
        try:
            return await done
        finally:
            self._waiting -= 1

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            await self._slots.acquire()
            group, self._pending = self._pending[: self.max_rows], self._pending[self.max_rows :]
            if not self._pending:
                self._wakeup.clear()
            if not group:
                self._slots.release()
                continue
            task = asyncio.create_task(self._flush(group))
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def _flush(self, group: list[tuple[FeedbackRow, asyncio.Future]]) -> None:
        # The same feedback_id twice in one group: the first call stores it, the others are replays.
        first: dict[str, FeedbackRow] = {}
        for row, _ in group:
            first.setdefault(row.feedback_id, row)
        try:
            conn = self._kept.pop() if self._kept else await self.pool.acquire()
            try:
                outcome = await store.insert_feedback_group(conn, list(first.values()))
            except BaseException:
                await self.pool.release(conn)  # the pool resets it, or replaces it if broken
                raise
            self._kept.append(conn)
        except Exception as exc:  # noqa: BLE001 - every waiting caller gets the error
            for _, done in group:
                if not done.done():
                    done.set_exception(exc)
            return
        finally:
            self._slots.release()
        claimed: set[str] = set()
        for row, done in group:
            created, analyzed = outcome[row.feedback_id]
            mine = created and row.feedback_id not in claimed
            claimed.add(row.feedback_id)
            if not done.done():
                done.set_result(Stored(mine, analyzed))

    async def aclose(self) -> None:
        while self._pending or self._flushes:
            await asyncio.sleep(0.01)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        while self._kept:
            await self.pool.release(self._kept.pop())
