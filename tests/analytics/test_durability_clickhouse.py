"""Kafka → ClickHouse, acknowledged means durable: the analytics processor (SV_ANALYTICS_STORE=
clickhouse, the embedded engine in its own data folder) is SIGKILLed while it consumes a load;
restarted, it catches up (its group's committed offsets reach the topic's end), and every event
whose RecordEvents call succeeded (Kafka acked it) is in ClickHouse exactly once (offsets are
committed only after the insert returned; a re-read batch finds its ids already stored)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest

from analytics_svc.ingestion.processor import GROUP
from analytics_svc.ingestion.recorder import EVENTS_TOPIC
from tests.analytics.test_durability import Load
from tests.conftest import free_port, service_env, spawn, stop, wait_serving
from tests.kafka_mock import MockKafkaCluster

pytestmark = pytest.mark.clickhouse

COUNT = """
import json, sys, clickhouse_connect
ids = json.load(sys.stdin)
client = clickhouse_connect.get_client(interface="chdb", path=sys.argv[1])
rows = client.query("SELECT count() FROM storyverse.events WHERE event_id IN {i:Array(String)}",
                    parameters={"i": ids}).result_rows
print(rows[0][0])
"""


def stored_in_clickhouse(path: Path, ids: list[str]) -> int:
    """Stored rows of these ids (without FINAL: a duplicate would count twice), read by a
    process of its own (the engine belongs to one process at a time)."""
    out = subprocess.run(
        [sys.executable, "-c", COUNT, str(path)],
        input=json.dumps(ids),
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip())


def committed_and_written(bootstrap: str, topic: str, group: str) -> tuple[int, int]:
    """The group's committed offsets and the topic's high watermarks, summed over partitions:
    the processor commits only after its insert returned, so committed > 0 means a batch is in
    ClickHouse, and committed == written means all of it is."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})  # never subscribes
    try:
        topics = consumer.list_topics(topic, timeout=5).topics
        if topic not in topics or topics[topic].error is not None:
            return 0, 0
        partitions = [TopicPartition(topic, p) for p in topics[topic].partitions]
        committed = consumer.committed(partitions, timeout=5)
        done = sum(max(tp.offset, 0) for tp in committed)
        written = sum(consumer.get_watermark_offsets(tp, timeout=5)[1] for tp in partitions)
        return done, written
    finally:
        consumer.close()


async def until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (result := await asyncio.to_thread(check)):
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        await asyncio.sleep(0.5)
    return result


@pytest.fixture
def kafka():
    cluster = MockKafkaCluster(brokers=3)
    yield cluster
    cluster.close()


async def test_sigkill_of_the_clickhouse_processor_loses_nothing(settings, analytics, kafka, tmp_path):
    port = free_port()
    prefix = f"t{int(time.time() * 1000)}."
    env = service_env(
        settings, analytics_port=port, kafka_bootstrap=kafka.bootstrap, kafka_topic_prefix=prefix
    )
    to_clickhouse = {**env, "SV_ANALYTICS_STORE": "clickhouse", "SV_DATA_DIR": str(tmp_path)}
    service = spawn("analytics_svc", env, tmp_path / "analytics.log")  # Kafka mode: it only produces
    processor = spawn("analytics_svc.ingestion.processor", to_clickhouse, tmp_path / "processor.log")
    progress = partial(committed_and_written, kafka.bootstrap, prefix + EVENTS_TOPIC, GROUP)
    try:
        wait_serving(f"127.0.0.1:{port}")
        target = f"127.0.0.1:{port}"
        # A second of load, then no more until the processor has stored (committed) a batch,
        # however long chDB takes to start: the topic stays within the mock broker's bounded log
        # (past it the oldest messages go, and a restarted consumer's offset is reset beyond
        # them: librdkafka's "Offset out of range" in the processor's log, loss by the broker).
        primer = Load(target)
        await primer.run(1.0)
        await until(lambda: progress()[0] > 0, 90, "the processor's first stored batch")
        load = Load(target)
        running = asyncio.create_task(load.run(120.0))
        await asyncio.sleep(2.0)
        processor.send_signal(signal.SIGKILL)  # in the middle of the load
        processor.wait(timeout=10)
        await asyncio.sleep(3.0)  # the load goes on without it
        load.stop()
        await running
        assert len(primer.acknowledged) > 100 and len(load.acknowledged) > 500, "the load did not get going"
        acknowledged = primer.acknowledged + load.acknowledged
        before = stored_in_clickhouse(tmp_path / "clickhouse", acknowledged)
        assert 0 < before < len(acknowledged)
        # Restarted, it catches up once the group has given up the killed member (10 s session
        # timeout): every offset committed, so every message inserted.
        processor = spawn("analytics_svc.ingestion.processor", to_clickhouse, tmp_path / "processor-2.log")

        def caught_up() -> bool:
            done, written = progress()
            return written >= len(acknowledged) and done == written

        await until(caught_up, 240, "the restarted processor's catch-up")
        stop(processor)  # SIGTERM: the engine's files are closed for the count
        assert stored_in_clickhouse(tmp_path / "clickhouse", acknowledged) == len(acknowledged)
    finally:
        for process in (service, processor):
            process.kill()
            process.wait()
