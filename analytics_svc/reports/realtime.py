"""Real-time counters: minute buckets kept as events are processed, flushed to tables.

It sees exactly the events that were stored: in direct mode the recorder hands it the
rows it has just committed (`count_rows`, no bus round trip); in Kafka mode it follows
the bus topic `analytics.events` (Event protobuf bytes, `received_at` header; `attach`).
Per minute of arrival it counts events by type and collects the active users; it also
keeps each user's first event per type for retention cohorts. Every few seconds the
buckets go to PostgreSQL:
- realtime_minute_events: this replica's running totals (replaced, so a re-flush
  is harmless); readers add the replicas up;
- realtime_minute_users: a set (ON CONFLICT DO NOTHING), exact across replicas;
- user_first_events: earliest wins, same rule as the nightly rollup.
What a flush saved is remembered for a while (users of the current minutes, the first
time sent per user and type, up to SAVED_FIRST keys for SAVED_SECONDS), so that the
next flushes send only what can change a row: an active user is not re-sent every 5 s,
nor a first event that is not earlier than the one already stored. Forgetting is safe
(the statements are idempotent); it only bounds how long an erased user's cohort row
may stay missing after new events (the nightly rollup re-derives it anyway).
Buckets older than the retention of the minute tables are deleted by the flusher.
Erasure: `forget` drops a user from everything held here, and a flush leaves out the users
the tombstones cover, so that a flush racing an erasure cannot write them back.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import repeat
from operator import itemgetter

import asyncpg
from storyverse.analytics.v1 import events_pb2

from analytics_svc.ingestion.prepare import COLUMNS
from analytics_svc.ingestion.recorder import EVENTS_TOPIC
from analytics_svc.queries import realtime as sql
from common.bus import BusMessage, EventBus
from common.periodic import Periodic
from common.privacy.tombstones import Tombstones
from common.validation import parse_rfc3339

GROUP = "analytics-realtime"
# Every second: each flush is small, so it holds the service's event loop (and PostgreSQL) for
# a short while. Every 5 s, the first-event rows of that much traffic (9,000 in bench.ingest)
# held each worker's loop 50-350 ms of CPU: the ingestion tails at half of the maximum rate.
FLUSH_SECONDS = 1.0
FORGET_SECONDS = 60.0  # old buckets go at most this often (two DELETEs)
KEEP = timedelta(days=2)  # the dashboard's window is at most 24 h
SAVED_FIRST = 500_000  # (user, type) keys whose stored first time is remembered
SAVED_SECONDS = 600.0
# Where (event_type, user_id, ts, age_group, platform, device_type) are in an ingest.COLUMNS
# row, and in the tuples built from bus messages.
_FIELDS = ("event_type", "user_id", "ts", "age_group", "platform", "device_type")
_ROW = tuple(COLUMNS.index(name) for name in _FIELDS)
_ITEM = tuple(range(len(_FIELDS)))
_LATEST = datetime.max.replace(tzinfo=UTC)  # "nothing stored yet": no time is at or after it


class RealtimeCounters:
    def __init__(
        self, pool: asyncpg.Pool, replica: str | None = None, tombstones: Tombstones | None = None
    ) -> None:
        self.pool = pool
        self.replica = replica or uuid.uuid4().hex[:12]
        self.tombstones = tombstones
        # Running totals of this replica per (minute, event_type), kept until the minute is old.
        self._events: dict[tuple[datetime, str], int] = defaultdict(int)
        self._dirty: set[tuple[datetime, str]] = set()
        self._users: set[tuple[datetime, str]] = set()
        self._first: dict[tuple[str, str], tuple[datetime, str, str, str]] = {}
        # What earlier flushes stored (see the module docstring).
        self._saved_users: dict[datetime, set[str]] = {}  # minute → users stored for it
        # user → event type (and "*") → the first time stored.
        self._saved_first: dict[str, dict[str, datetime]] = {}
        # user → event type → max(first "*" stored, first of the type stored), for the users
        # with a "*" stored: an event at or after it changes no stored first event.
        self._unchanged_from: dict[str, dict[str, datetime]] = {}
        self._saved_first_keys = 0
        self._saved_first_since = time.monotonic()
        self._lock = asyncio.Lock()
        self._flusher: Periodic | None = None
        self._forgot_at = float("-inf")

    def attach(self, bus: EventBus) -> None:
        """Kafka mode: count what the topic delivers (the processor stores it)."""
        bus.subscribe(EVENTS_TOPIC, GROUP, self.handle)

    def start(self, flush_seconds: float = FLUSH_SECONDS) -> None:
        self._flusher = Periodic("real-time flush", self._flush_and_forget, flush_seconds)
        self._flusher.start()

    def count_rows(self, rows: Sequence[tuple], received_at: datetime) -> None:
        """Direct mode: rows just committed (ingest.COLUMNS order), all received at received_at."""
        self._count(received_at.replace(second=0, microsecond=0), rows, _ROW)

    async def handle(self, messages: list[BusMessage]) -> None:
        by_minute: dict[datetime, list[tuple]] = defaultdict(list)
        for message in messages:
            event = events_pb2.Event.FromString(message.value)
            raw = message.headers.get("received_at")
            at = datetime.fromisoformat(raw.decode()) if raw else datetime.now(UTC)
            p = event.properties
            by_minute[at.replace(second=0, microsecond=0)].append(
                (
                    event.event_type,
                    event.user_id,
                    parse_rfc3339(event.timestamp),
                    p.age_group,
                    p.platform,
                    p.device_type,
                )
            )
        for minute, items in by_minute.items():
            self._count(minute, items, _ITEM)

    def _count(self, minute: datetime, items: Sequence[tuple], at: tuple[int, ...]) -> None:
        """items: tuples holding (event_type, user_id, ts or None, age_group, platform,
        device_type) at the positions `at` (_ROW for ingest rows, _ITEM for bus messages)."""
        kind_at, user_at, ts_at, age_at, platform_at, device_at = at
        events, dirty = self._events, self._dirty
        for event_type, n in Counter(map(itemgetter(kind_at), items)).items():
            key = (minute, event_type)
            events[key] += n
            dirty.add(key)
        active = set(map(itemgetter(user_at), items)).difference(self._saved_users.get(minute, ()))
        self._users.update(zip(repeat(minute), active))
        first, saved, unchanged_from = self._first, self._saved_first, self._unchanged_from.get
        for item in items:
            ts = item[ts_at]
            if ts is None:
                continue
            user_id, event_type = item[user_at], item[kind_at]
            floor = unchanged_from(user_id)
            if floor is not None and ts >= floor.get(event_type, _LATEST):
                continue  # the stored rows are at least as early: the common case
            stored = saved.get(user_id)
            for kind in (event_type, "*"):
                key = (user_id, kind)
                known = first.get(key)
                if known is None:
                    if stored is not None and ts >= stored.get(kind, _LATEST):
                        continue
                elif ts >= known[0]:
                    continue
                first[key] = (ts, item[age_at] or "", item[platform_at] or "", item[device_at] or "")

    async def forget(self, user_id: str) -> None:
        """Erasure: the user goes from every set and map (their counts stay: they name nobody)."""
        self._users = {key for key in self._users if key[1] != user_id}
        for per_minute in self._saved_users.values():
            per_minute.discard(user_id)
        for kind in [key for key in self._first if key[0] == user_id]:
            del self._first[kind]
        self._saved_first.pop(user_id, None)
        self._unchanged_from.pop(user_id, None)

    def _without_erased(self, users: set, first: dict) -> tuple[set, dict]:
        tombstones = self.tombstones
        if not tombstones:
            return users, first
        users = {(minute, user) for minute, user in users if not tombstones.covers(user, minute)}
        first = {key: value for key, value in first.items() if not tombstones.covers(key[0], value[0])}
        return users, first

    async def flush(self) -> None:
        async with self._lock:
            dirty, self._dirty = self._dirty, set()
            users, self._users = self._users, set()
            first, self._first = self._first, {}
            users, first = self._without_erased(users, first)
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
            self._remember(users, first, horizon)

    def _remember(self, users, first, horizon: datetime) -> None:
        saved_users = self._saved_users
        for minute, user_id in users:
            per_minute = saved_users.get(minute)
            if per_minute is None:
                per_minute = saved_users[minute] = set()
            per_minute.add(user_id)
        for minute in [m for m in saved_users if m < horizon]:
            del saved_users[minute]
        saved = self._saved_first
        stale = time.monotonic() - self._saved_first_since > SAVED_SECONDS
        if stale or self._saved_first_keys + len(first) > SAVED_FIRST:
            saved.clear()
            self._unchanged_from.clear()
            self._saved_first_keys = 0
            self._saved_first_since = time.monotonic()
        for (user_id, kind), context in first.items():
            per_user = saved.get(user_id)
            if per_user is None:
                per_user = saved[user_id] = {}
            known = per_user.get(kind)
            if known is None:
                self._saved_first_keys += 1
            if known is None or context[0] < known:
                per_user[kind] = context[0]
        for user_id in {user_id for user_id, _ in first}:
            per_user = saved[user_id]
            star = per_user.get("*")
            if star is None:
                self._unchanged_from.pop(user_id, None)
            else:
                self._unchanged_from[user_id] = {kind: max(star, at) for kind, at in per_user.items()}

    async def _flush_and_forget(self) -> None:
        await self.flush()
        if time.monotonic() - self._forgot_at >= FORGET_SECONDS:
            await sql.forget_before(self.pool, datetime.now(UTC) - KEEP)
            self._forgot_at = time.monotonic()

    async def aclose(self) -> None:
        if self._flusher is not None:
            await self._flusher.stop()
        with contextlib.suppress(Exception):
            await self.flush()
