"""Publishing submitted feedback for analysis in batches, off the request path.

SubmitFeedback answers once its row is committed; the bus message only tells the
analysis there is work. Queuing it here instead of awaiting the bus means a burst
of submissions becomes a few large bus batches (which the analysis handles in a
handful of queries) and a slow broker never slows the answer. If the process dies
with messages still queued, their rows stay `analyzed = false` and the sweeper
(analysis.py) picks them up: the table, not the bus, is the durable record of work.
For the same reason the queue is bounded: when the analysis is far behind (a surge),
further messages are dropped rather than held in memory, and the sweeper finds their
rows in the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from common.bus import BusMessage, EventBus

log = logging.getLogger(__name__)
MAX_BATCH = 500
MAX_QUEUED = 20_000
LINGER_SECONDS = 0.05


class BatchPublisher:
    def __init__(
        self, bus: EventBus, topic: str, max_queued: int = MAX_QUEUED, linger: float = LINGER_SECONDS
    ) -> None:
        self.bus = bus
        self.linger = linger
        self.topic = topic
        self._queue: asyncio.Queue[BusMessage] = asyncio.Queue(max_queued)
        self._task: asyncio.Task | None = None
        self.dropped = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def add(self, message: BusMessage) -> None:
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped % 1000 == 1:
                log.warning(
                    "analysis behind: messages dropped, the sweeper takes their rows",
                    extra={"fields": {"dropped": self.dropped}},
                )

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            # Up to LINGER_SECONDS for company: in a surge the analysis gets batches of hundreds
            # (one model call, one load, one UPDATE each) instead of thousands of tiny ones.
            deadline = asyncio.get_running_loop().time() + self.linger
            while len(batch) < MAX_BATCH:
                if self._queue.empty():
                    left = deadline - asyncio.get_running_loop().time()
                    if left <= 0:
                        break
                    with contextlib.suppress(TimeoutError):
                        batch.append(await asyncio.wait_for(self._queue.get(), left))
                    continue
                batch.append(self._queue.get_nowait())
            try:
                await self.bus.publish(self.topic, batch)
            except Exception:  # noqa: BLE001 - the sweeper analyses the rows of a lost batch
                log.exception("publishing feedback for analysis failed", extra={"fields": {"n": len(batch)}})
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def flush(self) -> None:
        """Wait until everything queued so far has been handed to the bus."""
        await self._queue.join()

    async def aclose(self) -> None:
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), timeout=5)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
