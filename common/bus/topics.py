"""The topics of the system and their creation (idempotent): what the cluster must hold before a deploy.

    python -m common.bus.topics            # creates what is missing on SV_KAFKA_BOOTSTRAP
    ensure_topics(settings)                # the same from code (the launcher in Kafka mode)

Partitions per topic are below (SV_KAFKA_PARTITIONS > 0 overrides them all, for small test
clusters); replication is SV_KAFKA_REPLICATION, with min.insync.replicas one less (acks=all
then survives one lost broker). Topics that exist are left as they are: partition counts
are never changed here (adding partitions moves keys, see docs/operations.md).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from common.settings import Settings


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    # Kept as long as the erasure tombstones (SV_ERASURE_TOMBSTONE_DAYS), not a week: its
    # messages name erased users, and are of no use once the tombstones are gone.
    tombstone_retention: bool = False


# Every topic written or read by a service; each has a dead-letter topic (`<name>.dlq`).
MAIN_TOPICS = (
    Topic("analytics.events", 12),  # keyed by user: one user's events stay in order
    Topic("analytics.failed", 3),
    Topic("catalog.visibility", 3),  # keyed by story
    Topic("feedback.submitted", 6),  # keyed by story
    Topic("feedback.alerts", 3),
    Topic("privacy.erasure", 3, tombstone_retention=True),  # keyed by the user's salted hash
    Topic("privacy.erasure.progress", 3),  # keyed by audit id or service; no user id (peers.py)
)
DLQ_PARTITIONS = 3


def all_topics(settings: Settings) -> list[Topic]:
    topics = [*MAIN_TOPICS, *(Topic(f"{t.name}.dlq", DLQ_PARTITIONS) for t in MAIN_TOPICS)]
    if settings.kafka_partitions > 0:
        topics = [Topic(t.name, settings.kafka_partitions, t.tombstone_retention) for t in topics]
    return [Topic(settings.kafka_topic_prefix + t.name, t.partitions, t.tombstone_retention) for t in topics]


def ensure_topics(settings: Settings, timeout: float = 30.0) -> list[str]:
    """Create the missing topics; returns the names created. Raises on any other error."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    assert settings.kafka_bootstrap, "SV_KAFKA_BOOTSTRAP is not set"
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    replication = settings.kafka_replication
    config = {"min.insync.replicas": str(max(1, replication - 1))}
    tombstones = {**config, "retention.ms": str(int(settings.erasure_tombstone_days * 86_400_000))}
    wanted = [
        NewTopic(t.name, t.partitions, replication, config=tombstones if t.tombstone_retention else config)
        for t in all_topics(settings)
    ]
    created = []
    for name, future in admin.create_topics(wanted, request_timeout=timeout).items():
        try:
            future.result(timeout=timeout)
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    return created


def main() -> None:
    created = ensure_topics(Settings.from_env())
    print(f"created {len(created)} topics" + (": " + ", ".join(created) if created else ""), file=sys.stderr)


if __name__ == "__main__":
    main()
