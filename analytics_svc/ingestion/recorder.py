"""Recording events: validate, then make them durable before answering.

Two sinks, one behaviour:
- direct (default): rows go to PostgreSQL through the group-commit writer; after
  COMMIT the new rows go to the `on_stored` hooks (the real-time counters), and the
  new events are published on the in-process bus (topic `analytics.events`, the same
  messages as in Kafka mode) when a consumer in this process follows it (e.g. the
  recommendation engine sharing the process); with none, no message is built.
- Kafka (SV_KAFKA_BOOTSTRAP set): events go to the `analytics.events` topic and
  the call returns after Kafka acknowledged them (acks=all, idempotent producer);
  the analytics processor writes them to PostgreSQL. Rejections go to
  `analytics.failed` and from there to the failed-events table.
Either way, events of users erased since they happened are acknowledged and dropped
(erased.py): the erasure already removed the user's data, this must not bring it back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from storyverse.analytics.v1 import events_pb2

from analytics_svc.ingestion import store
from analytics_svc.ingestion.erased import without_erased
from analytics_svc.ingestion.prepare import Prepared, Rejection, prepare
from analytics_svc.ingestion.writer import EventStoreWriter, GroupCommitWriter
from common.bus import BusMessage, EventBus
from common.privacy.tombstones import Tombstones

EVENTS_TOPIC = "analytics.events"
FAILED_TOPIC = "analytics.failed"
# Called after COMMIT with the rows that were new (ingest.COLUMNS order) and their arrival time.
StoredHook = Callable[[Sequence[tuple], datetime], None]


@dataclass
class Outcome:
    accepted: int = 0
    duplicates: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    # Request positions of the duplicates, so that a caller who merged calls can answer each.
    duplicate_positions: list[int] = field(default_factory=list)


class EventRecorder:
    def __init__(
        self,
        pool: asyncpg.Pool,
        bus: EventBus,
        via_kafka: bool,
        writer: GroupCommitWriter | EventStoreWriter,
        on_stored: list[StoredHook] | None = None,
        tombstones: Tombstones | None = None,
    ) -> None:
        self.pool = pool
        self.bus = bus
        self.via_kafka = via_kafka
        self.writer = writer
        self.on_stored = on_stored if on_stored is not None else []
        self.tombstones = tombstones

    async def record(
        self,
        events: Sequence[events_pb2.Event],
        source: str = "grpc",
        wire: Callable[[], bytes] | None = None,
    ) -> Outcome:
        """wire: optionally, what serializes the request holding the events in its field 1
        (ingest.prepare)."""
        received_at = datetime.now(UTC)
        prepared = prepare(events, received_at, wire)
        invalid = prepared.rejections  # answered as invalid, even those not kept (erased users)
        prepared, erased = without_erased(prepared, self.tombstones, "ingestion")
        if self.via_kafka:
            return await self._record_via_kafka(events, prepared, received_at, erased, invalid)
        new_ids = await self.writer.write(prepared.rows, prepared.rejections, source)
        if new_ids:
            rows = prepared.rows
            if len(new_ids) == len(rows):
                stored, positions = rows, prepared.positions
            else:
                kept = [i for i, row in enumerate(rows) if row[0] in new_ids]
                stored, positions = [rows[i] for i in kept], [prepared.positions[i] for i in kept]
            for hook in self.on_stored:
                hook(stored, received_at)
            if self.bus.wants(EVENTS_TOPIC):
                header = {"received_at": received_at.isoformat().encode()}
                await self.bus.publish(EVENTS_TOPIC, [_message(events[pos], header) for pos in positions])
        stored_before = [
            pos for pos, row in zip(prepared.positions, prepared.rows, strict=True) if row[0] not in new_ids
        ]
        return _outcome(len(new_ids) + erased, stored_before, prepared, invalid)

    async def _record_via_kafka(
        self,
        events: Sequence[events_pb2.Event],
        prepared: Prepared,
        received_at: datetime,
        erased: int,
        invalid: list[Rejection],
    ) -> Outcome:
        ids = [row[0] for row in prepared.rows]
        already = await store.existing_event_ids(self.pool, ids) if ids else set()
        header = {"received_at": received_at.isoformat().encode()}
        messages = [
            _message(events[pos], header)
            for pos, row in zip(prepared.positions, prepared.rows, strict=True)
            if row[0] not in already
        ]
        failed = [BusMessage(r.event_id.encode() or None, encode_rejection(r)) for r in prepared.rejections]
        if failed:
            await self.bus.publish(FAILED_TOPIC, failed)
        if messages:
            await self.bus.publish(EVENTS_TOPIC, messages)
        stored_before = [
            pos for pos, row in zip(prepared.positions, prepared.rows, strict=True) if row[0] in already
        ]
        return _outcome(len(messages) + erased, stored_before, prepared, invalid)


def _outcome(
    accepted: int, stored_before: list[int], prepared: Prepared, invalid: list[Rejection]
) -> Outcome:
    duplicates = sorted(stored_before + prepared.repeated_positions)
    return Outcome(accepted, len(duplicates), invalid, duplicates)


def _message(event: events_pb2.Event, header: dict[str, bytes]) -> BusMessage:
    # Keyed by user so that one user's events stay in order within a partition.
    return BusMessage(event.user_id.encode(), event.SerializeToString(), header)


def encode_rejection(rejection: Rejection) -> bytes:
    return json.dumps(
        {
            "event_id": rejection.event_id,
            "field": rejection.field,
            "reason": rejection.reason,
            "payload": rejection.payload,
        }
    ).encode()


def decode_rejection(value: bytes, index: int = 0) -> Rejection:
    data = json.loads(value)
    return Rejection(index, data["event_id"], data["field"], data["reason"], data["payload"])
