"""Event ingestion over gRPC on loopback, stored in a real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import math

import grpc
import pytest
from google.protobuf import json_format, struct_pb2
from storyverse.analytics.v1 import analytics_service_pb2 as pb
from storyverse.analytics.v1 import analytics_service_pb2_grpc as pb_grpc
from storyverse.analytics.v1 import events_pb2

from common.errors import violations_from_trailers
from tests.events import SEED_EVENT, event


@pytest.fixture
def stub(analytics_channel):
    return pb_grpc.AnalyticsServiceStub(analytics_channel)


async def test_seed_event_is_stored_once_and_replay_counts_as_duplicate(stub, db):
    seed = json_format.Parse(json.dumps(SEED_EVENT), events_pb2.Event())
    first = await stub.RecordEvent(pb.RecordEventRequest(event=seed))
    second = await stub.RecordEvent(pb.RecordEventRequest(event=seed))
    assert (first.result.accepted, first.result.duplicates) == (1, 0)
    assert (second.result.accepted, second.result.duplicates) == (0, 1)
    row = await db.fetchrow("SELECT * FROM events WHERE event_id = 'evt-123456'")
    assert row["user_id"] == "user-789012"
    assert row["universes"] == ["dragon-ball", "toy-story"]
    assert row["characters"] == ["goku", "woody", "buzz"]
    assert row["creation_time"] == 450
    assert (row["device_type"], row["platform"], row["theme"]) == ("tablet", "ios", "friendship")
    assert await db.fetchval("SELECT count(*) FROM events WHERE event_id = 'evt-123456'") == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"user_id": None}, "event.user_id"),
        ({"timestamp": "20/03/2025 14:30"}, "event.timestamp"),
        ({"timestamp": "2099-01-01T00:00:00Z"}, "event.timestamp"),
        ({"event_type": "story_deleted"}, "event.event_type"),
    ],
)
async def test_invalid_event_is_rejected_naming_the_field_and_kept(stub, db, change, field):
    bad = event(**change)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.RecordEvent(pb.RecordEventRequest(event=bad))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    violations = violations_from_trailers(caught.value.trailing_metadata())
    assert [v.field for v in violations] == [field]
    kept = await db.fetchrow("SELECT field, payload FROM failed_events WHERE event_id = $1", bad.event_id)
    assert kept is not None, "a rejected event must land in failed_events"
    assert kept["field"] == field.removeprefix("event.")
    assert json.loads(kept["payload"])["event_id"] == bad.event_id
    assert await db.fetchval("SELECT count(*) FROM events WHERE event_id = $1", bad.event_id) == 0


async def test_batch_keeps_valid_events_and_lists_each_rejection(stub, db):
    good = [event() for _ in range(5)]
    bad_device = event(properties={**SEED_EVENT["properties"], "device_type": "toaster"})
    batch = [good[0], bad_device, good[1], good[2], event(user_id="has space"), good[3], good[4], good[0]]
    reply = await stub.RecordEvents(pb.RecordEventsRequest(events=batch))
    assert reply.result.accepted == 5
    assert reply.result.duplicates == 1
    assert reply.result.rejected == 2
    assert [(r.index, r.field) for r in reply.result.rejections] == [
        (1, "properties.device_type"),
        (4, "user_id"),
    ]
    ids = [e.event_id for e in good]
    assert await db.fetchval("SELECT count(*) FROM events WHERE event_id = ANY($1)", ids) == 5
    failed = await db.fetchval(
        "SELECT count(*) FROM failed_events WHERE event_id = ANY($1)",
        [bad_device.event_id, batch[4].event_id],
    )
    assert failed == 2


async def test_batch_of_1000_is_accepted_and_1001_is_refused(stub, db):
    events = [event() for _ in range(1000)]
    reply = await stub.RecordEvents(pb.RecordEventsRequest(events=events))
    assert reply.result.accepted == 1000
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.RecordEvents(pb.RecordEventsRequest(events=[*events, event()]))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in violations_from_trailers(caught.value.trailing_metadata())] == ["events"]


async def test_extras_outside_the_allow_list_are_refused(stub, db):
    extras = struct_pb2.Struct()
    extras.update({"child_name": "Emma"})
    bad = event()
    bad.properties.extras.CopyFrom(extras)
    ok = event()
    ok.properties.extras.update({"language": "en", "pages": 12})
    reply = await stub.RecordEvents(pb.RecordEventsRequest(events=[bad, ok]))
    assert reply.result.accepted == 1
    assert reply.result.rejections[0].field == "properties.extras.child_name"
    props = await db.fetchval("SELECT props FROM events WHERE event_id = $1", ok.event_id)
    assert json.loads(props)["extras"] == {"language": "en", "pages": 12}


async def test_concurrent_replays_store_each_event_once(stub, db):
    events = [event() for _ in range(50)]
    calls = [stub.RecordEvents(pb.RecordEventsRequest(events=events)) for _ in range(8)]
    replies = await asyncio.gather(*calls)
    assert sum(r.result.accepted for r in replies) == 50
    assert sum(r.result.duplicates for r in replies) == 7 * 50
    ids = [e.event_id for e in events]
    assert await db.fetchval("SELECT count(*) FROM events WHERE event_id = ANY($1)", ids) == 50


async def test_extras_numbers_that_json_cannot_hold_are_refused_and_the_rest_stored(stub, db):
    """NaN and infinities have no JSON form (props is jsonb): such an event is rejected with its
    field named, instead of failing the whole call."""
    bad = [event(), event()]
    bad[0].properties.extras.update({"latency_ms": math.nan})
    bad[1].properties.extras.update({"pages": -math.inf})
    ok = event()
    reply = await stub.RecordEvents(pb.RecordEventsRequest(events=[bad[0], ok, bad[1]]))
    assert reply.result.accepted == 1
    assert [(r.index, r.field, r.reason) for r in reply.result.rejections] == [
        (0, "properties.extras.latency_ms", "must be a finite number"),
        (2, "properties.extras.pages", "must be a finite number"),
    ]
    assert await db.fetchval("SELECT count(*) FROM events WHERE event_id = $1", ok.event_id) == 1
    kept = [e.event_id for e in bad]
    assert await db.fetchval("SELECT count(*) FROM failed_events WHERE event_id = ANY($1)", kept) == 2
