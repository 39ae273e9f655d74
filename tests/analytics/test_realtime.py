"""Real-time counters: the committed rows (direct mode) and the bus messages (Kafka mode)
count the same, and a flush sends only what can change a row."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from analytics_svc import ingest
from analytics_svc.realtime import RealtimeCounters
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
