"""tools/replay_dlq.py against librdkafka's mock cluster: dead letters go back to their topic.

The mock cluster answers every time lookup with "the end", so --since is checked only for a
time after the last message; the replay itself runs with since=None (--all).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from common.bus import BusMessage
from common.bus.kafka import KafkaBus
from tests.kafka_mock import MockKafkaCluster
from tools.replay_dlq import replay


async def test_dead_letters_are_replayed_without_their_error_header():
    cluster = MockKafkaCluster(brokers=1)
    prefix = f"replay{uuid.uuid4().hex[:6]}."
    bus = KafkaBus(cluster.bootstrap, prefix=prefix)
    received: list[BusMessage] = []
    try:
        await bus.start()
        dead = [
            BusMessage(f"user-{n}".encode(), f"event-{n}".encode(), {"error": b"boom", "k": b"v"})
            for n in range(3)
        ]
        await bus.publish("analytics.events.dlq", dead)
        later = datetime.now(UTC) + timedelta(hours=1)
        assert (
            await asyncio.to_thread(replay, cluster.bootstrap, prefix, "analytics.events", later, True) == 0
        )
        assert await asyncio.to_thread(replay, cluster.bootstrap, prefix, "analytics.events", None, True) == 3
        assert await asyncio.to_thread(replay, cluster.bootstrap, prefix, "analytics.events", None) == 3

        async def handle(batch: list[BusMessage]) -> None:
            received.extend(batch)

        bus.subscribe("analytics.events", "replay-check", handle)
        for _ in range(100):
            if len(received) >= 3:
                break
            await asyncio.sleep(0.1)
    finally:
        await bus.aclose()
        cluster.close()
    assert sorted(m.value for m in received) == [b"event-0", b"event-1", b"event-2"]
    assert all("error" not in m.headers and m.headers["k"] == b"v" for m in received)
