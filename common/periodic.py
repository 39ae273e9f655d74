"""Background work repeated on a period: the one loop behind every service's periodic task.

    refresh = Periodic("catalog refresh", catalog.refresh_if_changed, every=2.0)
    refresh.start()          # first run after one period; first_after=0 runs at once
    refresh.wake()           # run now instead of at the end of the pause (a notification came)
    await refresh.stop()     # cancels the pause, or the run in progress

A run that raises is logged with its traceback and the task goes on. After a failure the
pause doubles with each failure in a row, up to `max_backoff` (never below the period): a
PostgreSQL outage gets a line every so often instead of one per period, and is not hammered
by every replica meanwhile. The first success returns to the period. Each pause is spread by
±`jitter` of itself, so replicas started together do not poll in step. A run that returns
DONE ends the task (work that has nothing left to do).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)
DONE = object()  # what a run returns to end its task
Run = Callable[[], Awaitable[object]]


class Periodic:
    def __init__(
        self,
        name: str,
        run: Run,
        every: float,
        *,
        first_after: float | None = None,
        jitter: float = 0.1,
        max_backoff: float = 30.0,
    ) -> None:
        """first_after: seconds before the first run (one period when None, 0 for at once)."""
        self.name = name
        self.run = run
        self.every = every
        self.first_after = every if first_after is None else first_after
        self.jitter = jitter
        self.max_backoff = max(every, max_backoff)
        self.failures = 0  # in a row, up to the last run
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.create_task(self._loop(), name=self.name)

    def wake(self) -> None:
        """End the current pause now; during a run, the next pause ends at once."""
        self._wake.set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def pause(self) -> float:
        """Seconds until the next run: the period, or the backoff after failures; jittered."""
        seconds = self.every if not self.failures else min(self.every * 2**self.failures, self.max_backoff)
        return seconds * random.uniform(1 - self.jitter, 1 + self.jitter)

    async def _loop(self) -> None:
        await self._sleep(self.first_after)
        while True:
            try:
                if await self.run() is DONE:
                    return
                self.failures = 0
            except Exception:  # noqa: BLE001 - logged; the task must outlive a failed run
                self.failures += 1
                pause = self.pause()
                fields = {"task": self.name, "failures": self.failures, "retry_in_s": round(pause, 3)}
                log.exception("%s failed", self.name, extra={"fields": fields})
            else:
                pause = self.pause()
            await self._sleep(pause)

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await self._wake.wait()
        self._wake.clear()
