"""Real-time counters: the committed rows (direct mode) and the bus messages (Kafka mode)
count the same, and a flush sends only what can change a row."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from analytics_svc.ingestion import prepare as ingest
from analytics_svc.reports.realtime import RealtimeCounters
from common.bus import BusMessage
from tests.events import event


def _events(user: str, *seconds_ago: int):
    now = datetime.now(UTC)
    return [
        event(user_id=user, timestamp=(now - timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        for s in seconds_ago
    ]


async def _first(db, user: str) -> dict[str, tuple]:
    rows = await db.fetch(
        "SELECT event_type, first_ts, age_group, platform, device_type FROM user_first_events"
        " WHERE user_id = $1",
        user,
    )
    return {r["event_type"]: (r["first_ts"], r["age_group"], r["platform"], r["device_type"]) for r in rows}


async def test_rows_and_bus_messages_count_the_same(db, analytics):
    received_at = datetime.now(UTC)
    user_a, user_b = f"user-{uuid.uuid4().hex[:10]}", f"user-{uuid.uuid4().hex[:10]}"
    direct, via_bus = RealtimeCounters(db), RealtimeCounters(db)
    events_a, events_b = _events(user_a, 60, 30), _events(user_b, 60, 30)
    direct.count_rows(ingest.prepare(events_a, received_at).rows, received_at)
    header = {"received_at": received_at.isoformat().encode()}
    await via_bus.handle([BusMessage(e.user_id.encode(), e.SerializeToString(), header) for e in events_b])
    minute = received_at.replace(second=0, microsecond=0)
    assert dict(direct._events) == dict(via_bus._events) == {(minute, "story_creation"): 2}
    assert direct._users == {(minute, user_a)} and via_bus._users == {(minute, user_b)}
    await direct.flush()
    await via_bus.flush()
    first_a, first_b = await _first(db, user_a), await _first(db, user_b)
    assert set(first_a) == set(first_b) == {"story_creation", "*"}
    # Unset properties are '' either way (the columns are NOT NULL), not NULL from the row.
    assert first_a["*"][1:] == first_b["*"][1:] == ("", "ios", "tablet")
    assert first_a["*"][0] == datetime.fromisoformat(events_a[0].timestamp)


async def test_a_flush_sends_only_what_can_change_a_row(db, analytics):
    received_at = datetime.now(UTC)
    user = f"user-{uuid.uuid4().hex[:10]}"
    counters = RealtimeCounters(db)
    counters.count_rows(ingest.prepare(_events(user, 60), received_at).rows, received_at)
    await counters.flush()
    # The same user in the same minute, with a later event: nothing new to store.
    counters.count_rows(ingest.prepare(_events(user, 10), received_at).rows, received_at)
    assert counters._users == set() and counters._first == {}
    assert sum(counters._events.values()) == 2  # still counted
    # An earlier event is a new first time.
    earlier = _events(user, 600)
    counters.count_rows(ingest.prepare(earlier, received_at).rows, received_at)
    assert set(counters._first) == {(user, "story_creation"), (user, "*")}
    await counters.flush()
    assert (await _first(db, user))["*"][0] == datetime.fromisoformat(earlier[0].timestamp)
    total = await db.fetchval(
        "SELECT events FROM realtime_minute_events WHERE replica = $1 AND minute = $2",
        counters.replica,
        received_at.replace(second=0, microsecond=0),
    )
    assert total == 3


class _ReferenceCounters:
    """What RealtimeCounters kept before the per-minute user sets and the per-user floors:
    every (minute, user) pending unless stored, and a first event pending unless the stored
    "*" and the stored type are both at or before it."""

    def __init__(self) -> None:
        self.users: set = set()
        self.first: dict = {}
        self.saved_users: set = set()
        self.saved_first: dict = {}

    def count(self, minute, items) -> None:
        self.users |= {(minute, user) for _, user, _ in items} - self.saved_users
        for event_type, user_id, ts in items:
            stored = self.saved_first.get(user_id)
            latest = datetime.max.replace(tzinfo=UTC)
            if stored is not None and ts >= stored.get("*", latest) and ts >= stored.get(event_type, latest):
                continue
            for kind in (event_type, "*"):
                known = self.first.get((user_id, kind))
                if known is None:
                    if stored is not None and ts >= stored.get(kind, latest):
                        continue
                elif ts >= known[0]:
                    continue
                self.first[(user_id, kind)] = (ts, "", "", "")

    def flush(self, horizon, forget: bool) -> None:
        self.saved_users = {k for k in self.saved_users | self.users if k[0] >= horizon}
        if forget:
            self.saved_first.clear()
        for (user_id, kind), context in self.first.items():
            per_user = self.saved_first.setdefault(user_id, {})
            if kind not in per_user or context[0] < per_user[kind]:
                per_user[kind] = context[0]
        self.users, self.first = set(), {}


_BATCH = st.lists(
    st.tuples(
        st.sampled_from(["click", "page_view", "story_view"]), st.sampled_from("abcde"), st.integers(0, 30)
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), _BATCH, st.sampled_from(["", "flush", "flush+forget"])), max_size=12
    )
)
def test_what_is_pending_matches_the_plain_rule(steps):
    """count_rows, flushes (minus the database) and forgetting: the same users and first events
    pending after every step as the straightforward rule."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    counters, reference = RealtimeCounters(pool=None, replica="t"), _ReferenceCounters()  # type: ignore[arg-type]
    for minute_no, batch, then in steps:
        minute = start + timedelta(minutes=minute_no)
        items = [(kind, user, start + timedelta(seconds=s)) for kind, user, s in batch]
        rows = [
            tuple({"event_type": k, "user_id": u, "ts": t}.get(c) for c in ingest.COLUMNS)
            for k, u, t in items
        ]
        counters.count_rows(rows, minute)
        reference.count(minute, items)
        assert counters._users == reference.users
        assert {k: v[0] for k, v in counters._first.items()} == {k: v[0] for k, v in reference.first.items()}
        if then:
            horizon = minute - timedelta(minutes=2)
            if then == "flush+forget":
                counters._saved_first_since -= 10 * 3600  # older than SAVED_SECONDS
            counters._remember(counters._users, counters._first, horizon)
            counters._users, counters._first = set(), {}
            reference.flush(horizon, forget=then == "flush+forget")
