"""The analytics processor (Kafka mode): topic `analytics.events` → the event store
(PostgreSQL, or ClickHouse with SV_ANALYTICS_STORE=clickhouse).

    python -m analytics_svc.ingestion.processor      # a consumer group; run as many as partitions

At least once: offsets are committed only after the rows are committed, and the
event_id primary key makes a redelivered event a no-op (effectively once).
A message that cannot be decoded or stored goes to `analytics.events.dlq` (by the
bus) and is recorded in failed_events. Events, rejections and dead letters of users erased
since they were sent are dropped (analytics_svc/ingestion/erased.py; the process follows the
tombstones as every service does, common/privacy/participant.py).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial

from storyverse.analytics.v1 import events_pb2

from analytics_svc.eventstore.choose import open_event_store
from analytics_svc.ingestion import store
from analytics_svc.ingestion.erased import without_erased
from analytics_svc.ingestion.event_rows import field_one
from analytics_svc.ingestion.prepare import Prepared, Rejection, prepare
from analytics_svc.ingestion.recorder import EVENTS_TOPIC, FAILED_TOPIC, decode_rejection
from analytics_svc.ingestion.writer import EventStoreWriter, GroupCommitWriter
from analytics_svc.schema import MIGRATIONS
from common import metrics, telemetry
from common.bus import BusMessage, EventBus
from common.bus.kafka import KafkaBus
from common.database import create_pool
from common.grpc_server import COMMON_MIGRATIONS, serve_health
from common.logs import configure_logging
from common.migrations import apply_migrations
from common.privacy.participant import ErasureParticipant
from common.privacy.tombstones import Tombstones
from common.settings import Settings

GROUP = "analytics-processor"
log = logging.getLogger(__name__)


# A batch is filtered with tombstones read since it was consumed: after a pause (a stopped
# process, a rebalance) the poll may not have run yet, and the batch may hold events of a user
# erased meanwhile. One indexed read of what is new per batch (hundreds of events); the erasure
# job's verifying pass still removes anything that slips through.
FRESH_TOMBSTONES_SECONDS = 0.0


class EventProcessor:
    def __init__(
        self,
        writer: GroupCommitWriter | EventStoreWriter,
        tombstones: Tombstones | None = None,
        refresh: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.writer = writer
        self.tombstones = tombstones
        self._refresh = refresh  # reads new tombstones (ErasureParticipant.refresh)

    async def _fresh_tombstones(self) -> None:
        if self._refresh is None or self.tombstones is None:
            return
        if self.tombstones.age() > FRESH_TOMBSTONES_SECONDS:
            try:
                await self._refresh()
            except Exception as exc:  # noqa: BLE001 - PostgreSQL away: the known ones, the job's pass
                log.warning("tombstones not refreshed before a batch: %r", exc)

    async def handle_events(self, messages: list[BusMessage]) -> None:
        await self._fresh_tombstones()
        # Group by arrival time so each row keeps the time the service received it.
        by_time: dict[datetime, tuple[list[events_pb2.Event], list[bytes]]] = {}
        for message in messages:
            event = events_pb2.Event.FromString(message.value)  # undecodable → retried, then DLQ
            events, serialized = by_time.setdefault(_received_at(message), ([], []))
            events.append(event)
            serialized.append(message.value)
        # One write for the whole batch (one transaction, or one ClickHouse insert): the
        # bus commits its offsets after it returned.
        rows: list[tuple] = []
        rejections: list[Rejection] = []
        for at, (group, serialized) in by_time.items():
            prepared = prepare(group, at, partial(field_one, serialized))
            prepared, _ = without_erased(prepared, self.tombstones, "processor")
            rows += prepared.rows
            rejections += prepared.rejections
        await self.writer.write(rows, rejections, source="kafka")

    async def handle_failed(self, messages: list[BusMessage]) -> None:
        await self._fresh_tombstones()
        rejections = [decode_rejection(m.value, i) for i, m in enumerate(messages)]
        rejections = without_erased(Prepared(rejections=rejections), self.tombstones, "processor")[
            0
        ].rejections
        if rejections:
            async with self.writer.pool.acquire() as conn:
                await store.insert_failed(conn, rejections, source="grpc")

    async def handle_dead_letters(self, messages: list[BusMessage]) -> None:
        """Messages the processor could not handle: kept in failed_events with their bytes
        (events are keyed by user: those of erased users are dropped)."""
        if self.tombstones:
            kept = [m for m in messages if not self.tombstones.covers(_key(m), _received_at(m))]
            metrics.ERASURE_DROPPED.add(len(messages) - len(kept), {"where": "dead letters"})
            messages = kept
        if not messages:
            return
        rejections = [
            Rejection(
                i,
                "",
                "message",
                (m.headers.get("error") or b"unprocessable").decode(errors="replace"),
                json.dumps(
                    {
                        "key": (m.key or b"").decode(errors="replace"),
                        "value_b64": base64.b64encode(m.value).decode(),
                    }
                ),
            )
            for i, m in enumerate(messages)
        ]
        async with self.writer.pool.acquire() as conn:
            await store.insert_failed(conn, rejections, source="kafka-dlq")


def _received_at(message: BusMessage) -> datetime:
    raw = message.headers.get("received_at")
    return datetime.fromisoformat(raw.decode()) if raw else datetime.now(UTC)


def _key(message: BusMessage) -> str:
    return (message.key or b"").decode(errors="replace")


def attach(
    bus: EventBus,
    writer: GroupCommitWriter | EventStoreWriter,
    tombstones: Tombstones | None = None,
    refresh: Callable[[], Awaitable[None]] | None = None,
) -> EventProcessor:
    processor = EventProcessor(writer, tombstones, refresh)
    bus.subscribe(EVENTS_TOPIC, GROUP, processor.handle_events)
    bus.subscribe(FAILED_TOPIC, GROUP, processor.handle_failed)
    bus.subscribe(f"{EVENTS_TOPIC}.dlq", GROUP, processor.handle_dead_letters)
    return processor


async def main() -> None:
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    if not settings.kafka_bootstrap:
        raise SystemExit("the analytics processor runs in Kafka mode only: set SV_KAFKA_BOOTSTRAP")
    telemetry.setup("analytics-processor", settings)
    if settings.metrics_port:
        telemetry.serve_metrics(settings.host, settings.metrics_port)
    pool = await create_pool(settings)
    for component, folder in (("common", COMMON_MIGRATIONS), ("analytics", MIGRATIONS)):
        await apply_migrations(pool, component, folder)
    health = None
    if settings.processor_health_port:  # Kubernetes probes: readiness follows PostgreSQL
        health = await serve_health(pool, settings.host, settings.processor_health_port)
    # Into PostgreSQL by group commit, or into ClickHouse (SV_ANALYTICS_STORE=clickhouse): one
    # insert per consumed batch, offsets committed by the bus only after it returned.
    events = await open_event_store(settings, pool)
    if events.name == "postgres":
        writer = GroupCommitWriter(pool, max_rows=settings.ingest_max_group)
    else:
        writer = EventStoreWriter(pool, events)
    bus = KafkaBus(
        settings.kafka_bootstrap, prefix=settings.kafka_topic_prefix, client_id="analytics-processor"
    )
    # No erasure steps of its own (the analytics service erases the tables): the tombstones.
    privacy = ErasureParticipant(pool, bus, settings, "analytics-processor")
    await privacy.start()
    attach(bus, writer, privacy.tombstones, privacy.refresh)
    await bus.start()
    print("analytics processor consuming", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await privacy.aclose()
    if health is not None:
        await health.stop(grace=1)
    await bus.aclose()
    await writer.aclose()
    await events.close()
    await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
