"""Real-time counters: minute buckets kept as events are processed, flushed to tables.

Subscribes to the bus topic `analytics.events` (Event protobuf bytes, `received_at`
header), so it sees exactly the events that were stored, in direct and in Kafka mode.
Per minute of arrival it counts events by type and collects the active users; it also
keeps each user's first event per type for retention cohorts. Every few seconds the
buckets go to PostgreSQL:
- realtime_minute_events: this replica's running totals (replaced, so a re-flush
  is harmless); readers add the replicas up;
- realtime_minute_users: a set (ON CONFLICT DO NOTHING), exact across replicas;
- user_first_events: earliest wins, same rule as the nightly rollup.
Buckets older than the retention of the minute tables are deleted by the flusher.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import asyncpg
from storyverse.analytics.v1 import events_pb2

from analytics_svc.queries import realtime as sql
from analytics_svc.recorder import EVENTS_TOPIC
from common.bus import BusMessage, EventBus
from common.validation import parse_rfc3339

GROUP = "analytics-realtime"
FLUSH_SECONDS = 5.0
KEEP = timedelta(days=2)  # the dashboard's window is at most 24 h


class RealtimeCounters:
    def __init__(self, pool: asyncpg.Pool, replica: str | None = None) -> None:
        self.pool = pool
        self.replica = replica or uuid.uuid4().hex[:12]
        # Running totals of this replica per (minute, event_type), kept until the minute is old.
        self._events: dict[tuple[datetime, str], int] = defaultdict(int)
        self._dirty: set[tuple[datetime, str]] = set()
        self._users: set[tuple[datetime, str]] = set()
        self._first: dict[tuple[str, str], tuple[datetime, str, str, str]] = {}
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None

    def attach(self, bus: EventBus, flush_seconds: float = FLUSH_SECONDS) -> None:
        bus.subscribe(EVENTS_TOPIC, GROUP, self.handle)
        self._task = asyncio.create_task(self._flush_every(flush_seconds))

    async def handle(self, messages: list[BusMessage]) -> None:
        for message in messages:
            event = events_pb2.Event.FromString(message.value)
            raw = message.headers.get("received_at")
            at = datetime.fromisoformat(raw.decode()) if raw else datetime.now(UTC)
            minute = at.replace(second=0, microsecond=0)
            self._events[(minute, event.event_type)] += 1
            self._dirty.add((minute, event.event_type))
            self._users.add((minute, event.user_id))
            ts = parse_rfc3339(event.timestamp)
            if ts is None:
                continue
            p = event.properties
            context = (ts, p.age_group, p.platform, p.device_type)
            for kind in (event.event_type, "*"):
                known = self._first.get((event.user_id, kind))
                if known is None or ts < known[0]:
                    self._first[(event.user_id, kind)] = context

    async def flush(self) -> None:
        async with self._lock:
            dirty, self._dirty = self._dirty, set()
            users, self._users = self._users, set()
            first, self._first = self._first, {}
            counts = [(m, t, self.replica, self._events[(m, t)]) for m, t in dirty]
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    await sql.save_minutes(conn, counts, list(users), first)
            except Exception:
                # Put everything back: the next flush retries (totals are replaced, sets deduplicated).
                self._dirty |= dirty
                self._users |= users
                for key, value in first.items():
                    self._first.setdefault(key, value)
                raise
            horizon = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
            for key in [k for k in self._events if k[0] < horizon and k not in self._dirty]:
                del self._events[key]

    async def _flush_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await self.flush()
                await sql.forget_before(self.pool, datetime.now(UTC) - KEEP)
            except Exception:  # noqa: BLE001 - retried at the next tick
                logging.getLogger(__name__).exception("real-time flush failed")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self.flush()
