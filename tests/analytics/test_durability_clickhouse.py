"""Kafka → ClickHouse, acknowledged means durable: the analytics processor (SV_ANALYTICS_STORE=
clickhouse, the embedded engine in its own data folder) is SIGKILLed while it consumes a load;
restarted, it catches up, and every event whose RecordEvents call succeeded (Kafka acked it) is
in ClickHouse exactly once (offsets are committed only after the insert returned; a re-read
batch finds its ids already stored)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

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
    try:
        wait_serving(f"127.0.0.1:{port}")
        load = Load(f"127.0.0.1:{port}")
        # Killed 15 s in: under the full suite's load chDB's start and first batch took over 9 s.
        running = asyncio.create_task(load.run(18.0))
        await asyncio.sleep(15.0)
        processor.send_signal(signal.SIGKILL)
        processor.wait(timeout=10)
        await running
        assert len(load.acknowledged) > 500, "the load did not get going"
        # It was storing when it died, and the load went on after it.
        before = stored_in_clickhouse(tmp_path / "clickhouse", load.acknowledged)
        assert 0 < before < len(load.acknowledged)
        # Restarted, it catches up once the group has given up the killed member (10 s session
        # timeout); looked at between runs (SIGTERM: it leaves its group after its batch).
        stored, deadline, run = 0, time.monotonic() + 150, 2
        while stored < len(load.acknowledged) and time.monotonic() < deadline:
            processor = spawn(
                "analytics_svc.ingestion.processor", to_clickhouse, tmp_path / f"processor-{run}.log"
            )
            await asyncio.sleep(30 if run == 2 else 15)
            stop(processor)
            stored = stored_in_clickhouse(tmp_path / "clickhouse", load.acknowledged)
            run += 1
        assert stored == len(load.acknowledged)
    finally:
        for process in (service, processor):
            process.kill()
            process.wait()
