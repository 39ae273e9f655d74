"""Critical alerts, hiding and the moderation loop, end to end over gRPC."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from storyverse.feedback.v1 import feedback_service_pb2 as pb

from feedback_svc.analysis import submitted_message
from feedback_svc.submission import to_row
from tests.feedback.conftest import eventually, new_id, record_story, settled, submit

FRIGHTENED = "The witch scene was terrifying, my 4 year old had nightmares all week."


async def next_alert_for(call, story_id: str, timeout: float) -> pb.Alert:
    deadline = time.monotonic() + timeout
    while True:
        reply = await asyncio.wait_for(call.read(), max(0.0, deadline - time.monotonic()))
        assert reply is not grpc.aio.EOF
        if reply.alert.story_id == story_id:
            return reply.alert


def visibility_of(collector, story_id: str) -> list[bool]:
    messages = [json.loads(m.value) for m in collector.messages]
    return [m["hidden"] for m in messages if m["item_id"] == story_id]


async def test_a_frightening_story_is_streamed_hidden_queued_and_cleared(stub, db, visibility):
    story = new_id("story")
    call = stub.WatchAlerts(pb.WatchAlertsRequest(kinds=["safety"]))
    await call.initial_metadata()  # the stream is registered from here on
    started = time.monotonic()
    sent = await submit(stub, story_id=story, comment=FRIGHTENED, rating=1, categories=["scary_content"])
    # Real time means well under a second; the bound leaves slack for a loaded CI machine.
    alert = await next_alert_for(call, story, timeout=3.0)
    assert time.monotonic() - started < 3.0
    call.cancel()
    assert (alert.kind, alert.severity, alert.status, alert.scope) == ("safety", "high", "open", "story")
    assert list(alert.feedback_ids) == [sent.feedback_id]
    assert "frightening" in alert.message

    queue = await stub.ListModerationQueue(pb.ListModerationQueueRequest())
    item = next(i for i in queue.items if i.story_id == story)
    assert (item.status, list(item.alert_ids)) == ("pending", [alert.alert_id])
    await eventually(lambda: _async(visibility_of(visibility, story) == [True]))

    decided = await stub.DecideModeration(
        pb.DecideModerationRequest(story_id=story, decision="clear", note="checked, fine for 6+")
    )
    assert (decided.item.status, decided.item.decision, decided.item.note) == (
        "cleared",
        "clear",
        "checked, fine for 6+",
    )
    queue = await stub.ListModerationQueue(pb.ListModerationQueueRequest(page_size=100))
    assert story not in [i.story_id for i in queue.items]
    resolved = await stub.ListAlerts(pb.ListAlertsRequest(status="resolved", page_size=100))
    assert alert.alert_id in [a.alert_id for a in resolved.alerts]
    await eventually(lambda: _async(visibility_of(visibility, story) == [True, False]))

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.DecideModeration(pb.DecideModerationRequest(story_id=story, decision="clear"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_redelivered_report_does_not_hide_a_cleared_story_again(
    stub, db, feedback_bus, pipeline, visibility
):
    story = new_id("story")
    sent = await submit(stub, story_id=story, comment=FRIGHTENED, rating=1)
    await settled(pipeline, db, sent.feedback_id)
    await stub.DecideModeration(pb.DecideModerationRequest(story_id=story, decision="clear"))
    # The bus delivers at least once: the same message may come again after the decision.
    row = to_row(sent, datetime.now(UTC))
    await feedback_bus.publish("feedback.submitted", [submitted_message(row)])
    await settled(pipeline, db, sent.feedback_id)
    assert await db.fetchval("SELECT count(*) FROM alerts WHERE subject = $1", story) == 1
    await eventually(lambda: _async(visibility_of(visibility, story) == [True, False]))
    # A new report is news, though.
    again = await submit(stub, story_id=story, comment="Still terrifying, my son cried.", rating=1)
    await settled(pipeline, db, again.feedback_id)
    assert await db.fetchval("SELECT count(*) FROM alerts WHERE subject = $1 AND status = 'open'", story) == 1
    await eventually(lambda: _async(visibility_of(visibility, story) == [True, False, True]))


async def _async(value):
    return value


async def test_repeated_reports_extend_one_alert(stub, db, pipeline, visibility):
    story = new_id("story")
    first = await submit(stub, story_id=story, comment=FRIGHTENED, rating=2, categories=[])
    await settled(pipeline, db, first.feedback_id)
    second = await submit(
        stub, story_id=story, comment="Way too violent, there was blood everywhere.", rating=1
    )
    await settled(pipeline, db, second.feedback_id)
    alerts = await db.fetch("SELECT * FROM alerts WHERE subject = $1 AND kind = 'safety'", story)
    assert len(alerts) == 1
    assert alerts[0]["feedback_ids"] == [first.feedback_id, second.feedback_id]
    assert alerts[0]["severity"] == "critical"  # raised by the inappropriate-content report
    items = await db.fetch("SELECT * FROM moderation_queue WHERE story_id = $1", story)
    assert len(items) == 1 and items[0]["alert_ids"] == [alerts[0]["alert_id"]]
    await pipeline.drain()
    assert visibility_of(visibility, story) == [True]  # hidden once


async def test_keep_hidden_closes_the_item_and_the_story_stays_hidden(stub, db, visibility, pipeline):
    story = new_id("story")
    sent = await submit(stub, story_id=story, comment="Characters swear and say shut up stupid.", rating=1)
    await settled(pipeline, db, sent.feedback_id)
    decided = await stub.DecideModeration(pb.DecideModerationRequest(story_id=story, decision="keep_hidden"))
    assert decided.item.status == "kept_hidden"
    queue = await stub.ListModerationQueue(pb.ListModerationQueueRequest(page_size=100))
    assert story not in [i.story_id for i in queue.items]
    await asyncio.sleep(0.05)
    assert visibility_of(visibility, story) == [True]  # never shown again


async def test_a_happy_comment_raises_nothing(stub, db, pipeline, visibility):
    story = new_id("story")
    sent = await submit(stub, story_id=story, comment="Not scary at all, a gentle and kind story.", rating=5)
    await settled(pipeline, db, sent.feedback_id)
    assert await db.fetchval("SELECT count(*) FROM alerts WHERE subject = $1", story) == 0
    await pipeline.drain()
    assert visibility_of(visibility, story) == []


async def test_technical_failures_alert_from_the_third_report(stub, db, pipeline, visibility):
    story = new_id("story")
    comments = [
        "The app crashed on page 2.",
        "Black screen, then it froze.",
        "Kept crashing, had to restart.",
    ]
    ids = []
    for i, comment in enumerate(comments):
        sent = await submit(stub, story_id=story, comment=comment, rating=2, categories=["technical_problem"])
        ids.append(sent.feedback_id)
        await settled(pipeline, db, ids)
        open_alerts = await db.fetch("SELECT * FROM alerts WHERE subject = $1 AND kind = 'technical'", story)
        assert len(open_alerts) == (1 if i == 2 else 0)
    assert open_alerts[0]["feedback_ids"] == ids
    assert visibility_of(visibility, story) == []  # technical problems do not hide a story

    # An operator closes it once fixed; closing again is harmless.
    alert_id = open_alerts[0]["alert_id"]
    for _ in range(2):
        reply = await stub.ResolveAlert(pb.ResolveAlertRequest(alert_id=alert_id, note="hotfix 2.3.1"))
        assert (reply.alert.alert_id, reply.alert.status) == (alert_id, "resolved")
    assert (
        await db.fetchval("SELECT resolution_note FROM alerts WHERE alert_id = $1", alert_id)
        == "hotfix 2.3.1"
    )


async def test_resolving_needs_an_existing_non_safety_alert(stub, db, pipeline):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ResolveAlert(pb.ResolveAlertRequest(alert_id="alr-does-not-exist"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    story = new_id("story")
    sent = await submit(stub, story_id=story, comment=FRIGHTENED, rating=1)
    await settled(pipeline, db, sent.feedback_id)
    alert_id = await db.fetchval("SELECT alert_id FROM alerts WHERE subject = $1", story)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ResolveAlert(pb.ResolveAlertRequest(alert_id=alert_id))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert await db.fetchval("SELECT status FROM alerts WHERE alert_id = $1", alert_id) == "open"


async def test_a_rating_drop_of_a_story_and_its_combination_is_alerted(stub, db, analytics_stub, pipeline):
    story = new_id("story")
    tag = story.split("-")[1][:6]
    universes = [f"space-{tag}", f"ocean-{tag}"]
    await record_story(analytics_stub, db, story, universes, ["captain", "octopus"], "courage")
    call = stub.WatchAlerts(pb.WatchAlertsRequest(kinds=["rating_drop"]))
    await call.initial_metadata()
    start = datetime.now(UTC) - timedelta(days=3)
    good = [5, 4, 5, 5, 4, 5, 5, 5, 4, 5, 5, 4, 5, 5, 5, 4, 5, 5, 4, 5]
    bad = [2, 1, 2, 1, 1, 2, 1, 3, 1, 2]
    ids = []
    for i, rating in enumerate(good + bad):
        ts = (start + timedelta(minutes=10 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        sent = await submit(stub, story_id=story, rating=rating, comment="", categories=[], timestamp=ts)
        ids.append(sent.feedback_id)
        if i == len(good) - 1:
            await settled(pipeline, db, ids)
            assert await db.fetchval("SELECT count(*) FROM alerts WHERE story_id = $1", story) == 0
    alert = await next_alert_for(call, story, timeout=2.0)
    call.cancel()
    assert alert.kind == "rating_drop" and alert.scope == "story" and alert.subject == story
    assert "dropped" in alert.message
    await settled(pipeline, db, ids)
    combination = "+".join(sorted(universes))
    row = await db.fetchrow("SELECT * FROM alerts WHERE scope = 'combination' AND subject = $1", combination)
    assert row is not None and row["kind"] == "rating_drop" and row["status"] == "open"
    listed = await stub.ListAlerts(pb.ListAlertsRequest(status="open", page_size=100))
    assert {(a.scope, a.subject) for a in listed.alerts} >= {("story", story), ("combination", combination)}

    # Ratings recover: the drop alerts close by themselves.
    recovered = []
    for i in range(10):
        ts = (start + timedelta(minutes=10 * (len(ids) + i))).strftime("%Y-%m-%dT%H:%M:%SZ")
        recovered.append(
            (
                await submit(stub, story_id=story, rating=5, comment="", categories=[], timestamp=ts)
            ).feedback_id
        )
    await settled(pipeline, db, recovered)
    statuses = await db.fetch(
        "SELECT scope, status, resolution_note FROM alerts WHERE kind = 'rating_drop'"
        " AND subject = ANY($1::text[])",
        [story, combination],
    )
    assert {(r["scope"], r["status"], r["resolution_note"]) for r in statuses} == {
        ("story", "resolved", "ratings recovered"),
        ("combination", "resolved", "ratings recovered"),
    }
