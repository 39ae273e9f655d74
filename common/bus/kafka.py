"""The Kafka event bus (confluent-kafka / librdkafka).

Producer: idempotent, acks=all; `publish` returns only when every message is
acknowledged by the in-sync replicas. Consumers: one per subscription, in a
consumer group, auto-commit off; offsets are committed after the handler
succeeded (at-least-once; handlers are idempotent). A message that still fails
after retries goes to `<topic>.dlq` with the error in a header, then is committed.
A group whose committed offset fell out of the topic's retention (consumers down longer
than it) restarts at the earliest message left: the messages in between were never
handled, so the first message of each newly assigned partition is checked against the
committed offset and such a gap is logged as an error and counted (`BUS_SKIPPED`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from common import metrics
from common.bus.base import BusMessage, Handler
from common.bus.tracing import consuming, publishing, with_headers

log = logging.getLogger(__name__)
RETRIES = 3
BATCH = 500
# How often each consumer measures its lag (a watermark request per assigned partition).
LAG_EVERY_SECONDS = 5.0


class KafkaBus:
    def __init__(self, bootstrap: str, prefix: str = "storyverse.", client_id: str = "storyverse") -> None:
        self.bootstrap = bootstrap
        self.prefix = prefix
        self.client_id = client_id
        self._producer: Producer | None = None
        self._poller: threading.Thread | None = None
        self._closing = threading.Event()
        self._subscriptions: list[tuple[str, str, Handler, bool]] = []
        self._tasks: dict[tuple[str, str], asyncio.Task] = {}
        self._left: set[tuple[str, str]] = set()
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="kafka")
        # "<topic>[<partition>]" -> messages behind the high watermark, per consumer group
        # (also exported as storyverse.bus.consumer.lag).
        self.lag: dict[str, int] = {}

    def topic_name(self, topic: str) -> str:
        return self.prefix + topic

    def subscribe(self, topic: str, group: str, handler: Handler, from_end: bool = False) -> None:
        self._subscriptions.append((topic, group, handler, from_end))
        self._left.discard((topic, group))
        if self._producer is not None:
            self._tasks[(topic, group)] = asyncio.create_task(self._consume(topic, group, handler, from_end))

    def unsubscribe(self, topic: str, group: str) -> None:
        """The consumer leaves its group after its current batch (its partitions go to the others)."""
        self._left.add((topic, group))
        self._subscriptions = [s for s in self._subscriptions if s[:2] != (topic, group)]

    def wants(self, topic: str) -> bool:
        return True  # the topic keeps messages for groups that read later

    async def start(self) -> None:
        self._producer = Producer(
            {
                "bootstrap.servers": self.bootstrap,
                "client.id": self.client_id,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 2,
                "compression.type": "lz4",
                "message.timeout.ms": 30000,
            }
        )
        self._poller = threading.Thread(target=self._poll_producer, name="kafka-producer-poll", daemon=True)
        self._poller.start()
        for topic, group, handler, from_end in self._subscriptions:
            self._tasks[(topic, group)] = asyncio.create_task(self._consume(topic, group, handler, from_end))

    def _poll_producer(self) -> None:
        while not self._closing.is_set():
            self._producer.poll(0.05)  # type: ignore[union-attr]

    async def publish(self, topic: str, messages: Sequence[BusMessage]) -> None:
        assert self._producer is not None, "start() the bus first"
        loop = asyncio.get_running_loop()
        futures = []
        name = self.topic_name(topic)
        with publishing(name, "kafka", len(messages)) as trace_headers:
            messages = [with_headers(m, trace_headers) for m in messages]
        for message in messages:
            future = loop.create_future()

            def delivered(err, _msg, future=future):
                loop.call_soon_threadsafe(_settle, future, err)

            while True:
                try:
                    self._producer.produce(
                        name,
                        value=message.value,
                        key=message.key,
                        headers=list(message.headers.items()),
                        on_delivery=delivered,
                    )
                    break
                except BufferError:  # local queue full: wait for deliveries (backpressure)
                    await asyncio.sleep(0.005)
            futures.append(future)
        await asyncio.gather(*futures)

    async def _consume(self, topic: str, group: str, handler: Handler, from_end: bool = False) -> None:
        loop = asyncio.get_running_loop()
        consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "client.id": f"{self.client_id}-{group}",
                "group.id": group,
                "enable.auto.commit": False,
                "auto.offset.reset": "latest" if from_end else "earliest",
                "session.timeout.ms": 10000,
                "heartbeat.interval.ms": 1000,
                "topic.metadata.refresh.interval.ms": 5000,
            }
        )
        name = self.topic_name(topic)  # one topic per consumer: partitions name its messages
        checked: set[int] = set()  # partitions whose first offset was checked
        consumer.subscribe([name], on_assign=lambda _consumer, _parts: checked.clear())
        lag_due = time.monotonic() + LAG_EVERY_SECONDS
        try:
            while not self._closing.is_set() and (topic, group) not in self._left:
                raw = await loop.run_in_executor(self._executor, consumer.consume, BATCH, 0.2)
                batch = []
                oldest = None
                firsts: dict[int, int] = {}
                for msg in raw:
                    if msg.error():
                        if msg.error().code() != KafkaError._PARTITION_EOF:
                            log.warning("kafka consume error", extra={"fields": {"error": str(msg.error())}})
                        continue
                    if (partition := msg.partition()) not in checked:
                        firsts.setdefault(partition, msg.offset())
                    headers = {k: v for k, v in (msg.headers() or [])}
                    batch.append(BusMessage(msg.key(), msg.value(), headers, topic))
                    stamp = msg.timestamp()[1] / 1000
                    oldest = stamp if oldest is None or 0 < stamp < oldest else oldest
                if firsts:  # before this batch's commit: the committed offsets are the group's
                    skipped = await loop.run_in_executor(self._executor, _skipped, consumer, name, firsts)
                    self._record_skipped(name, group, skipped)
                    checked.update(firsts)
                if time.monotonic() >= lag_due:  # in this loop: never concurrent with consume()
                    lag_due = time.monotonic() + LAG_EVERY_SECONDS
                    lags = await loop.run_in_executor(self._executor, _lag, consumer)
                    self._record_lag(group, lags)
                if not batch:
                    continue
                with consuming(name, group, batch, "kafka", oldest if oldest else None):
                    await self._handle(topic, handler, batch)
                await loop.run_in_executor(self._executor, _commit, consumer)
        finally:
            await loop.run_in_executor(self._executor, consumer.close)

    def _record_skipped(self, name: str, group: str, skipped: dict[int, tuple[int, int]]) -> None:
        for partition, (committed, first) in skipped.items():
            log.error(
                "kafka messages skipped: the group's committed offset is gone from the topic (retention),"
                " the messages before the first one left were never handled",
                extra={
                    "fields": {
                        "topic": name,
                        "partition": partition,
                        "group": group,
                        "committed": committed,
                        "first": first,
                        "skipped": first - committed,
                    }
                },
            )
            metrics.BUS_SKIPPED.add(first - committed, {"topic": name, "group": group})

    def _record_lag(self, group: str, lags: dict[tuple[str, int], int]) -> None:
        for (name, partition), lag in lags.items():
            self.lag[f"{name}[{partition}]"] = lag
            metrics.BUS_CONSUMER_LAG.set(lag, {"topic": name, "partition": str(partition), "group": group})

    async def _handle(self, topic: str, handler: Handler, batch: list[BusMessage]) -> None:
        for attempt in range(RETRIES):
            try:
                await handler(batch)
                return
            except Exception:  # noqa: BLE001 - retried, then isolated message by message
                log.exception("kafka handler failed", extra={"fields": {"topic": topic, "attempt": attempt}})
                await asyncio.sleep(0.1 * (attempt + 1))
        for message in batch:  # find the poison messages, send them to the dead-letter topic
            try:
                await handler([message])
            except Exception as exc:  # noqa: BLE001
                headers = {**message.headers, "error": repr(exc)[:500].encode()}
                metrics.BUS_MESSAGES.add(1, {"topic": self.topic_name(topic), "outcome": "dead_letter"})
                await self.publish(f"{topic}.dlq", [BusMessage(message.key, message.value, headers)])

    async def aclose(self) -> None:
        self._closing.set()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        if self._producer is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._producer.flush, 10)
        self._executor.shutdown(wait=False)


def _settle(future: asyncio.Future, err: KafkaError | None) -> None:
    if future.done():
        return
    if err is None:
        future.set_result(None)
    else:
        future.set_exception(KafkaException(err))


def _commit(consumer: Consumer) -> None:
    try:
        consumer.commit(asynchronous=False)
    except KafkaException as exc:  # e.g. rebalance in progress: messages will be redelivered
        log.warning("kafka commit failed", extra={"fields": {"error": str(exc)}})


def _skipped(consumer: Consumer, name: str, firsts: dict[int, int]) -> dict[int, tuple[int, int]]:
    """partition -> (committed offset, first offset read) where the first message read
    after an assignment lies beyond the group's committed offset (the next one it had to
    handle). Topics here are neither compacted nor transactional: no offset is skipped otherwise."""
    try:
        committed = consumer.committed([TopicPartition(name, p) for p in firsts], timeout=5)
    except KafkaException as exc:  # broker unreachable: this assignment goes unchecked
        log.warning("kafka committed offsets unavailable", extra={"fields": {"error": str(exc)}})
        return {}
    return {
        tp.partition: (tp.offset, firsts[tp.partition])
        for tp in committed
        if tp.offset >= 0 and firsts[tp.partition] > tp.offset
    }


def _lag(consumer: Consumer) -> dict[tuple[str, int], int]:
    """(topic, partition) -> high watermark minus the committed offset: messages not yet handled.

    Not the position: librdkafka advances it on fetch, before the handler has done anything."""
    try:
        assignment = consumer.assignment()
        if not assignment:
            return {}
        lags = {}
        for tp in consumer.committed(assignment, timeout=2):
            low, high = consumer.get_watermark_offsets(tp, timeout=1)
            lags[(tp.topic, tp.partition)] = max(0, high - (tp.offset if tp.offset >= 0 else low))
        return lags
    except KafkaException as exc:  # broker unreachable: try again next time
        log.debug("kafka lag unavailable", extra={"fields": {"error": str(exc)}})
        return {}
