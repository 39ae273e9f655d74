"""The in-process event bus: the same code path as Kafka, within one process.

Each (topic, group) has a bounded queue and one delivery task, so a slow
subscriber applies backpressure to publishers instead of growing memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

from common.bus.base import BusMessage, Handler
from common.bus.tracing import consuming, publishing

log = logging.getLogger(__name__)
QUEUE_BATCHES = 1000
RETRIES = 3


class InProcessBus:
    def __init__(self) -> None:
        self._groups: dict[str, dict[str, tuple[Handler, asyncio.Queue]]] = {}
        self._tasks: dict[tuple[str, str], asyncio.Task] = {}
        self._started = False
        self.dead_letters: list[BusMessage] = []

    def subscribe(self, topic: str, group: str, handler: Handler, from_end: bool = False) -> None:
        # In Kafka a second consumer of a group shares its partitions; here it would silently
        # take the group over from the first, so it is refused (give each its own group or bus).
        if group in self._groups.get(topic, {}):
            raise ValueError(f"group {group!r} already subscribes to {topic!r} on this in-process bus")
        self._groups.setdefault(topic, {})[group] = (handler, asyncio.Queue(QUEUE_BATCHES))
        if self._started:  # already started: start this group's delivery too
            self._tasks[(topic, group)] = asyncio.create_task(self._deliver(topic, group))

    def unsubscribe(self, topic: str, group: str) -> None:
        """Stop delivering to the group; what it had queued is dropped (a closing subscriber)."""
        self._groups.get(topic, {}).pop(group, None)
        task = self._tasks.pop((topic, group), None)
        if task is not None:
            task.cancel()

    def wants(self, topic: str) -> bool:
        """Only subscribed groups get a message: with none, publishing is a no-op."""
        return bool(self._groups.get(topic))

    async def start(self) -> None:
        self._started = True
        for topic, groups in self._groups.items():
            for group in groups:
                if (topic, group) not in self._tasks:
                    self._tasks[(topic, group)] = asyncio.create_task(self._deliver(topic, group))

    async def publish(self, topic: str, messages: Sequence[BusMessage]) -> None:
        with publishing(topic, "inprocess", len(messages)) as trace_headers:
            batch = [
                BusMessage(
                    m.key, m.value, {**m.headers, **trace_headers} if trace_headers else m.headers, topic
                )
                for m in messages
            ]
        for _handler, queue in self._groups.get(topic, {}).values():
            await queue.put((time.time(), batch))

    async def drain(self) -> None:
        """Wait until every queued batch has been handled (tests, shutdown)."""
        for groups in list(self._groups.values()):
            for _handler, queue in list(groups.values()):
                await queue.join()

    async def _deliver(self, topic: str, group: str) -> None:
        handler, queue = self._groups[topic][group]
        while True:
            published, batch = await queue.get()
            try:
                for attempt in range(RETRIES):
                    try:
                        with consuming(topic, group, batch, "inprocess", published):
                            await handler(batch)
                        break
                    except Exception:  # noqa: BLE001 - a subscriber's failure must not stop delivery
                        log.exception(
                            "bus handler failed", extra={"fields": {"topic": topic, "group": group}}
                        )
                        if attempt == RETRIES - 1:
                            self.dead_letters.extend(batch)
                        else:
                            await asyncio.sleep(0.05 * (attempt + 1))
            finally:
                queue.task_done()

    async def aclose(self) -> None:
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.drain(), timeout=10)
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()
        self._started = False
