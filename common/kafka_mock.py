"""librdkafka's mock Kafka cluster in a process of its own, which tests and the launcher drive.

    python -m common.kafka_mock --brokers 3     # prints "KAFKA_MOCK_BOOTSTRAP=host:port,..."
    stdin commands: "down <broker id>", "up <broker id>"; EOF or SIGTERM ends it

The cluster is made through librdkafka's C API (ctypes on the library confluent-kafka ships)
because that API, unlike config properties, can take a broker down and bring it back:
`rd_kafka_mock_broker_set_down` closes its connections and refuses new ones, as a crashed
broker would. The mock cannot serve CreateTopics, so the topics of common/bus/topics.py
are created here, with the settings' prefix and partitions.
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import os
import signal
import sys
import threading

import confluent_kafka

from common.bus.topics import all_topics
from common.settings import Settings

PREFIX = "KAFKA_MOCK_BOOTSTRAP="


def _library() -> ctypes.CDLL:
    folder = os.path.join(os.path.dirname(confluent_kafka.__file__), os.pardir, "confluent_kafka.libs")
    found = glob.glob(os.path.join(folder, "librdkafka*.so*"))
    lib = ctypes.CDLL(found[0] if found else "librdkafka.so.1")
    p, i = ctypes.c_void_p, ctypes.c_int
    lib.rd_kafka_conf_new.restype = p
    lib.rd_kafka_conf_set.argtypes = [p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.rd_kafka_new.restype = p
    lib.rd_kafka_new.argtypes = [i, p, ctypes.c_char_p, ctypes.c_size_t]
    lib.rd_kafka_mock_cluster_new.restype = p
    lib.rd_kafka_mock_cluster_new.argtypes = [p, i]
    lib.rd_kafka_mock_cluster_bootstraps.restype = ctypes.c_char_p
    lib.rd_kafka_mock_cluster_bootstraps.argtypes = [p]
    lib.rd_kafka_mock_topic_create.argtypes = [p, ctypes.c_char_p, i, i]
    lib.rd_kafka_mock_broker_set_down.argtypes = [p, ctypes.c_int32]
    lib.rd_kafka_mock_broker_set_up.argtypes = [p, ctypes.c_int32]
    return lib


class MockCluster:
    def __init__(self, brokers: int) -> None:
        self.lib = _library()
        error = ctypes.create_string_buffer(512)
        conf = self.lib.rd_kafka_conf_new()
        self.lib.rd_kafka_conf_set(conf, b"log_level", b"0", None, 0)  # the owner handle has no brokers
        self._handle = self.lib.rd_kafka_new(0, conf, error, len(error))  # RD_KAFKA_PRODUCER
        if not self._handle:
            raise RuntimeError(error.value.decode())
        self._cluster = self.lib.rd_kafka_mock_cluster_new(self._handle, brokers)
        self.bootstrap = self.lib.rd_kafka_mock_cluster_bootstraps(self._cluster).decode()
        self.brokers = brokers

    def create_topic(self, name: str, partitions: int, replication: int) -> None:
        err = self.lib.rd_kafka_mock_topic_create(
            self._cluster, name.encode(), partitions, min(replication, self.brokers)
        )
        if err:
            raise RuntimeError(f"mock topic {name}: error {err}")

    def set_broker(self, broker_id: int, up: bool) -> None:
        setter = self.lib.rd_kafka_mock_broker_set_up if up else self.lib.rd_kafka_mock_broker_set_down
        if setter(self._cluster, broker_id):
            raise RuntimeError(f"no broker {broker_id}")


def main() -> None:
    parser = argparse.ArgumentParser(description="librdkafka's mock Kafka cluster, driven over stdin.")
    parser.add_argument("--brokers", type=int, default=3)
    args = parser.parse_args()
    settings = Settings.from_env()
    cluster = MockCluster(args.brokers)
    for topic in all_topics(settings):
        cluster.create_topic(topic.name, topic.partitions, settings.kafka_replication)
    print(PREFIX + cluster.bootstrap, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())

    def commands() -> None:
        for line in sys.stdin:
            words = line.split()
            if len(words) == 2 and words[0] in ("down", "up"):
                cluster.set_broker(int(words[1]), up=words[0] == "up")
                print(f"ok {line.strip()}", flush=True)
        done.set()

    threading.Thread(target=commands, daemon=True).start()
    done.wait()


if __name__ == "__main__":
    main()
