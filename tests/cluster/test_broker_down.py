"""A Kafka broker goes down during load (mock cluster in a helper process, common/kafka_mock.py).

While the broker leading partition 0 of analytics.events is down (the mock moves no leaders),
the partitions it leads take no writes: calls whose events land there wait (the idempotent
producer retries) or time out. What the service acknowledged must all be in PostgreSQL once
the broker is back, each event once, and nothing may reach a dead-letter topic.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import grpc
from storyverse.analytics.v1 import analytics_service_pb2 as pb

from tests.analytics.test_durability import Load, stored, wait_until_stored
from tests.cluster.fleet import Fleet, KafkaMockProcess, handled, leader, messages_in
from tests.conftest import free_port, service_env, wait_serving
from tests.events import event

# Small calls: many of them cross the outage, few events pile up in the shared test database
# (later tests train models on all of it).
CALL_EVENTS = 10


class TimedLoad(Load):
    """Load that also remembers its slowest acknowledged call."""

    slowest = 0.0

    async def _worker(self, stub) -> None:
        while not self._stop.is_set():
            # Many users: their keys spread over every partition, so some are led by the lost broker.
            batch = [event(user_id=f"user-{uuid.uuid4().hex[:8]}") for _ in range(CALL_EVENTS)]
            started = time.monotonic()
            try:
                await stub.RecordEvents(pb.RecordEventsRequest(events=batch), timeout=5)
            except grpc.aio.AioRpcError:
                self.failed_calls += 1
                continue
            self.slowest = max(self.slowest, time.monotonic() - started)
            self.acknowledged += [e.event_id for e in batch]


async def test_a_broker_down_during_load_loses_and_doubles_nothing(settings, db, analytics, tmp_path):
    prefix = f"bd{int(time.time() * 1000)}."
    env = service_env(settings, kafka_topic_prefix=prefix, kafka_partitions=4)
    kafka = KafkaMockProcess(env)
    env["SV_KAFKA_BOOTSTRAP"] = kafka.bootstrap
    fleet = Fleet(env, tmp_path)
    port, metrics = free_port(), free_port()
    try:
        fleet.spawn("analytics_svc", analytics_port=port)
        fleet.spawn("analytics_svc.ingestion.processor", metrics_port=metrics)
        wait_serving(f"127.0.0.1:{port}")
        load = TimedLoad(f"127.0.0.1:{port}")
        running = asyncio.create_task(load.run(6.0))
        await asyncio.sleep(1.5)
        lost = leader(kafka.bootstrap, prefix + "analytics.events")  # its partitions stop taking writes
        kafka.broker("down", lost)
        await asyncio.sleep(2.5)
        kafka.broker("up", lost)
        await running

        assert len(load.acknowledged) > 300, "the load did not get going"
        assert load.failed_calls > 0 or load.slowest > 1.0, "the broker outage was not felt"
        assert await wait_until_stored(db, load.acknowledged, timeout=60) == len(load.acknowledged)
        assert len(set(load.acknowledged)) == len(load.acknowledged)
        # Each stored event is one row (event_id is the key); redeliveries changed nothing.
        assert await stored(db, load.acknowledged) == len(load.acknowledged)
        assert handled([metrics], "analytics.events", "analytics-processor") >= len(load.acknowledged)
        for topic in ("analytics.events.dlq", "analytics.failed.dlq"):
            assert messages_in(kafka.bootstrap, prefix + topic) == 0, topic
    finally:
        fleet.stop()
        kafka.close()
