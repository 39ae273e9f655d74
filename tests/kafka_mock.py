"""librdkafka's mock cluster: the real Kafka protocol on loopback, no broker to install.

    cluster = MockKafkaCluster(brokers=3)
    cluster.bootstrap            # "127.0.0.1:port,..." for any client or subprocess
    cluster.close()

A client created with `test.mock.num.brokers` starts the cluster in this process
and logs its bootstrap address in a `MOCK` line; the cluster lives as long as
that client does.
"""

from __future__ import annotations

import logging
import re
import time

from confluent_kafka import Producer

_ADDRESS = re.compile(r"replaced with (\S+)")


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


class MockKafkaCluster:
    def __init__(self, brokers: int = 3, timeout: float = 10.0) -> None:
        self._lines = _Lines()
        logger = logging.getLogger(f"kafka-mock-{id(self)}")
        logger.addHandler(self._lines)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        self._handle = Producer({"test.mock.num.brokers": brokers, "logger": logger})
        deadline = time.monotonic() + timeout
        self.bootstrap = ""
        while not self.bootstrap and time.monotonic() < deadline:
            self._handle.poll(0.1)
            for line in self._lines.lines:
                if line.startswith("MOCK") and (found := _ADDRESS.search(line)):
                    self.bootstrap = found.group(1)
        if not self.bootstrap:
            raise RuntimeError(f"no MOCK bootstrap line from librdkafka: {self._lines.lines}")

    def close(self) -> None:
        self._handle.flush(1)
        del self._handle
