"""Fan-out of raised alerts to the operators watching them (WatchAlerts).

The broadcaster subscribes to the bus topic "feedback.alerts" under a consumer
group of its own, so every replica sees every alert whichever replica raised it,
and hands each alert to the queue of each open stream. A watcher that does not
keep up loses the oldest alerts rather than slowing the alert path (ListAlerts
still has them all).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from common.bus import BusMessage, EventBus
from feedback_svc.alerts.desk import ALERTS_TOPIC

QUEUE_SIZE = 256
# With Kafka a new consumer group starts from the earliest offset: older alerts
# than this are history, not news.
REPLAY_HORIZON = timedelta(minutes=1)


class AlertBroadcaster:
    def __init__(self) -> None:
        self._watchers: set[asyncio.Queue] = set()
        self._started = datetime.now(UTC)
        self._closed = False

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(ALERTS_TOPIC, f"feedback-watch-{uuid.uuid4().hex[:12]}", self.handle)

    async def handle(self, messages: list[BusMessage]) -> None:
        for message in messages:
            alert = json.loads(message.value)
            created = datetime.fromisoformat(alert["created_at"].replace("Z", "+00:00"))
            if created < self._started - REPLAY_HORIZON:
                continue
            for queue in list(self._watchers):
                if queue.full():
                    with contextlib.suppress(asyncio.QueueEmpty):
                        queue.get_nowait()
                queue.put_nowait(alert)

    @contextlib.asynccontextmanager
    async def watch(self) -> AsyncIterator[asyncio.Queue]:
        queue: asyncio.Queue = asyncio.Queue(QUEUE_SIZE)
        self._watchers.add(queue)
        try:
            yield queue
        finally:
            self._watchers.discard(queue)

    @property
    def watchers(self) -> int:
        return len(self._watchers)

    def close(self) -> None:
        """End every open stream (shutdown)."""
        self._closed = True
        for queue in list(self._watchers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)
