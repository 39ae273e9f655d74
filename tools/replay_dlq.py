"""Put dead-lettered messages back on their topic, once their cause is fixed.

    python -m tools.replay_dlq analytics.events --since 2026-11-25T08:00:00Z --dry-run
    python -m tools.replay_dlq analytics.events --since 2026-11-25T08:00:00Z

Reads `<prefix><topic>.dlq` from the first message at or after --since up to the end it has
when the replay starts (messages dead-lettered meanwhile wait for the next replay), with a
consumer group of its own so the services' offsets are untouched, and publishes each message
to `<prefix><topic>` with its key, value and headers minus the `error` the bus added.
Consumers are idempotent (events by event_id), so replaying a message twice is harmless.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import datetime

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from common.settings import Settings


def replay(bootstrap: str, prefix: str, topic: str, since: datetime | None, dry_run: bool = False) -> int:
    """Replay from `since` (None: everything the topic still holds); return how many were put back."""
    dlq = f"{prefix}{topic}.dlq"
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"dlq-replay-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    producer = None if dry_run else Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    try:
        metadata = consumer.list_topics(dlq, timeout=10).topics[dlq]
        if metadata.error is not None:
            raise KafkaException(metadata.error)
        partitions = [TopicPartition(dlq, p) for p in metadata.partitions]
        marks = {tp.partition: consumer.get_watermark_offsets(tp, timeout=10) for tp in partitions}
        ends = {partition: high for partition, (_low, high) in marks.items()}
        if since is None:
            starts = [TopicPartition(dlq, p, marks[p][0]) for p in marks]
        else:  # -1: nothing at or after that time in this partition
            stamp = int(since.timestamp() * 1000)
            starts = consumer.offsets_for_times([TopicPartition(dlq, p, stamp) for p in marks], timeout=10)
        todo = [tp for tp in starts if 0 <= tp.offset < ends[tp.partition]]
        if dry_run:
            return sum(ends[tp.partition] - tp.offset for tp in todo)
        consumer.assign(todo)
        remaining = {tp.partition for tp in todo}
        count = 0
        while remaining:
            for msg in consumer.consume(500, 1.0):
                if msg.error() or msg.offset() >= ends[msg.partition()]:
                    continue  # dead-lettered after the replay started: the next replay's
                headers = [(k, v) for k, v in (msg.headers() or []) if k != "error"]
                while True:
                    try:
                        producer.produce(
                            f"{prefix}{topic}", value=msg.value(), key=msg.key(), headers=headers
                        )
                        break
                    except BufferError:  # local queue full: let deliveries drain
                        producer.poll(0.5)
                producer.poll(0)
                count += 1
                if msg.offset() + 1 >= ends[msg.partition()]:
                    remaining.discard(msg.partition())
        if producer.flush(30) != 0:
            raise KafkaException("some replayed messages were not acknowledged within 30 s")
        return count
    finally:
        consumer.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("topic", help="the original topic, without prefix (e.g. analytics.events)")
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--since", type=datetime.fromisoformat, help="ISO time, e.g. 2026-11-25T08:00:00Z")
    when.add_argument("--all", action="store_true", help="everything the dead-letter topic still holds")
    parser.add_argument("--dry-run", action="store_true", help="only count the messages")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if not settings.kafka_bootstrap:
        sys.exit("set SV_KAFKA_BOOTSTRAP")
    prefix = settings.kafka_topic_prefix
    count = replay(settings.kafka_bootstrap, prefix, args.topic, args.since, args.dry_run)
    print(f"{'would replay' if args.dry_run else 'replayed'} {count} message(s) to {prefix}{args.topic}")


if __name__ == "__main__":
    main()
