"""The cluster profile for tests: the mock Kafka cluster in a helper process, replicas as subprocesses.

kafka = KafkaMockProcess(env)            # common/kafka_mock.py; kafka.bootstrap
kafka.broker("down", 1); kafka.broker("up", 1)
fleet = Fleet(env, logs)
fleet.spawn("analytics_svc", analytics_port=free_port(), metrics_port=free_port())
handled(fleet.metrics_ports, "analytics.events", "analytics-processor")   # summed over replicas
fleet.stop(); kafka.close()
"""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
from pathlib import Path

from common.kafka_mock import PREFIX
from common.settings import REPO_ROOT
from tests.conftest import spawn

_SERIES = re.compile(r"^storyverse_bus_messages\w*_total\{([^}]*)\} (\S+)$", re.M)


class KafkaMockProcess:
    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "common.kafka_mock", "--brokers", "3"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.process.stdout.readline()
        assert line.startswith(PREFIX), f"no bootstrap from the mock cluster: {line!r}"
        self.bootstrap = line.strip().removeprefix(PREFIX)

    def broker(self, state: str, broker_id: int) -> None:
        self.process.stdin.write(f"{state} {broker_id}\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().startswith("ok"), "the mock cluster refused the command"

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Fleet:
    """Our processes, each with its own log file; `stop` kills what is still running."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.processes: list[subprocess.Popen] = []
        self.metrics_ports: list[int] = []

    def spawn(self, module: str, **settings: object) -> subprocess.Popen:
        env = {**self.env, **{f"SV_{k.upper()}": str(v) for k, v in settings.items()}}
        if "metrics_port" in settings:
            self.metrics_ports.append(int(settings["metrics_port"]))
        process = spawn(module, env, self.logs / f"{module}-{len(self.processes)}.log")
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def handled(metrics_ports: list[int], topic_suffix: str, group: str) -> float:
    """Messages of a topic handled successfully by a consumer group, summed over every process."""
    total = 0.0
    for port in metrics_ports:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            text = reply.read().decode()
        for labels, value in _SERIES.findall(text):
            fields = dict(re.findall(r'(\w+)="([^"]*)"', labels))
            if (
                fields.get("topic", "").endswith(topic_suffix)
                and fields.get("group") == group
                and fields.get("outcome") == "ok"
            ):
                total += float(value)
    return total


async def forget_reco_features(redis_url: str, user_id: str) -> None:
    """Delete a user's shared reco features (tests share the Redis server with others)."""
    from tests.common.redis_fixtures import delete_prefix

    for key in (f"sv:f:recent:reco:{user_id}", f"sv:f:cache:reco:history:{user_id}"):
        await delete_prefix(redis_url, key)


def commit_failures(logs: Path, since: str) -> int:
    """ "kafka commit failed" lines logged at or after `since` (ISO time): each may redeliver
    one batch to another replica (a rebalance moved its partitions: at least once)."""
    count = 0
    for path in logs.glob("*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if "kafka commit failed" in line and line[8:32] >= since:
                count += 1
    return count


def leader(bootstrap: str, topic: str, partition: int = 0) -> int:
    from confluent_kafka.admin import AdminClient

    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=5)
    return metadata.topics[topic].partitions[partition].leader


def messages_in(bootstrap: str, topic: str) -> int:
    """Messages ever written to a topic (high watermarks summed): 0 for an untouched dead-letter topic."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "dlq-count"})
    try:
        partitions = consumer.list_topics(topic, timeout=5).topics[topic].partitions
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5)[1] for p in partitions)
    finally:
        consumer.close()
