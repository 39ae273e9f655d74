"""Fan-out of alerts to WatchAlerts streams."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime, timedelta

import grpc
from storyverse.feedback.v1 import feedback_service_pb2 as pb

from common.bus import BusMessage
from feedback_svc.alerts.broadcaster import QUEUE_SIZE, AlertBroadcaster
from tests.feedback.conftest import new_id, settled, submit


def message(alert_id: str, created: datetime | None = None) -> BusMessage:
    created = created or datetime.now(UTC)
    alert = {"alert_id": alert_id, "kind": "safety", "created_at": created.isoformat().replace("+00:00", "Z")}
    return BusMessage(key=None, value=json.dumps(alert).encode())


async def test_every_watcher_gets_every_alert_and_history_is_skipped():
    broadcaster = AlertBroadcaster()
    async with broadcaster.watch() as first, broadcaster.watch() as second:
        old = datetime.now(UTC) - timedelta(hours=1)
        await broadcaster.handle([message("alr-old", old), message("alr-1"), message("alr-2")])
        for queue in (first, second):
            assert [queue.get_nowait()["alert_id"] for _ in range(queue.qsize())] == ["alr-1", "alr-2"]
    assert broadcaster.watchers == 0


async def test_a_slow_watcher_loses_the_oldest_alerts_not_the_newest():
    broadcaster = AlertBroadcaster()
    async with broadcaster.watch() as queue:
        await broadcaster.handle([message(f"alr-{i}") for i in range(QUEUE_SIZE + 5)])
        assert queue.qsize() == QUEUE_SIZE
        assert queue.get_nowait()["alert_id"] == "alr-5"


async def test_close_ends_the_streams():
    broadcaster = AlertBroadcaster()
    async with broadcaster.watch() as queue:
        broadcaster.close()
        assert queue.get_nowait() is None


async def test_watchers_get_only_the_kinds_they_asked_for(stub, db, pipeline):
    technical_only = stub.WatchAlerts(pb.WatchAlertsRequest(kinds=["technical"]))
    everything = stub.WatchAlerts(pb.WatchAlertsRequest())
    await technical_only.initial_metadata()
    await everything.initial_metadata()
    story = new_id("story")
    sent = await submit(stub, story_id=story, comment="Blood and guns everywhere, so violent.", rating=1)
    await settled(pipeline, db, sent.feedback_id)
    reply = await everything.read()
    while reply.alert.story_id != story:
        reply = await everything.read()
    assert reply.alert.kind == "safety"
    everything.cancel()
    # Nothing for the technical-only watcher: its read stays pending.
    read = asyncio.ensure_future(technical_only.read())
    await asyncio.sleep(0.2)
    assert not read.done()
    technical_only.cancel()
    with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
        await read
