"""SubmitFeedback: validation, idempotency, durability, asynchronous analysis."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from storyverse.feedback.v1 import feedback_service_pb2 as pb
from storyverse.feedback.v1 import feedback_service_pb2_grpc as pb_grpc

from common.bus.inprocess import InProcessBus
from common.errors import violations_from_trailers
from feedback_svc.service import spec
from tests.conftest import start_service
from tests.feedback.conftest import entry, eventually, new_id

SEED_FEEDBACK = {
    "feedback_id": "fb-123456",
    "user_id": "user-789012",
    "story_id": "story-123456",
    "timestamp": "2025-03-20T15:45:00Z",
    "rating": 4,
    "comment": "My daughter loved the characters but found the ending a bit confusing.",
    "categories": ["characters", "ending"],
    "sentiment_score": 0.75,
    "child_age": 6,
    "device_type": "tablet",
    "platform": "ios",
}


async def test_seed_entry_is_stored_once_and_replay_is_not_created(stub, db):
    seed = pb.FeedbackEntry(**SEED_FEEDBACK)
    first = await stub.SubmitFeedback(pb.SubmitFeedbackRequest(feedback=seed))
    second = await stub.SubmitFeedback(pb.SubmitFeedbackRequest(feedback=seed))
    assert (first.feedback_id, first.created, first.redacted) == ("fb-123456", True, False)
    assert (second.feedback_id, second.created) == ("fb-123456", False)
    assert await db.fetchval("SELECT count(*) FROM feedback WHERE feedback_id = 'fb-123456'") == 1
    row = await db.fetchrow("SELECT * FROM feedback WHERE feedback_id = 'fb-123456'")
    assert (row["story_id"], row["rating"], row["age_group"], row["platform"]) == (
        "story-123456",
        4,
        "6-8",
        "ios",
    )
    assert row["ts"] == datetime(2025, 3, 20, 15, 45, tzinfo=UTC)


async def test_the_row_is_committed_before_the_answer(stub, db):
    sent = entry()
    await stub.SubmitFeedback(pb.SubmitFeedbackRequest(feedback=sent))
    # Another connection of another pool sees it at once: committed, not merely queued.
    assert await db.fetchval("SELECT rating FROM feedback WHERE feedback_id = $1", sent.feedback_id) == 4


async def test_concurrent_replays_store_one_row(stub, db):
    sent = entry()
    replies = await asyncio.gather(
        *(stub.SubmitFeedback(pb.SubmitFeedbackRequest(feedback=sent)) for _ in range(10))
    )
    assert sum(r.created for r in replies) == 1
    assert await db.fetchval("SELECT count(*) FROM feedback WHERE feedback_id = $1", sent.feedback_id) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timestamp": "in 10 minutes"}, "timestamp"),  # resolved when the test runs, not at collection
        ({"timestamp": "2019-12-31T23:59:59Z"}, "timestamp"),
        ({"timestamp": "20/03/2025 15:45"}, "timestamp"),
        ({"rating": 6}, "rating"),
        ({"rating": 0}, "rating"),
        ({"categories": ["plot", "dragons"]}, "categories"),
        ({"child_age": 40}, "child_age"),
        ({"device_type": "toaster"}, "device_type"),
        ({"comment": "x" * 2001}, "comment"),
        ({"story_id": "has space"}, "story_id"),
    ],
)
async def test_invalid_feedback_is_refused_naming_the_field(stub, db, change, field):
    if change.get("timestamp") == "in 10 minutes":
        change = {"timestamp": (datetime.now(UTC) + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    bad = entry(**change)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.SubmitFeedback(pb.SubmitFeedbackRequest(feedback=bad))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in violations_from_trailers(caught.value.trailing_metadata())] == [
        f"feedback.{field}"
    ]
    assert await db.fetchval("SELECT count(*) FROM feedback WHERE feedback_id = $1", bad.feedback_id) == 0


async def test_a_timestamp_a_few_seconds_ahead_is_accepted(stub):
    ahead = (datetime.now(UTC) + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reply = await stub.SubmitFeedback(pb.SubmitFeedbackRequest(feedback=entry(timestamp=ahead)))
    assert reply.created


async def test_analysis_is_visible_within_a_second(stub):
    story = new_id("story")
    sent = entry(
        story_id=story,
        comment="The pictures were gorgeous but the ending was confusing.",
        categories=["ending"],
        sentiment_score=0.99,  # an output: a client's value is ignored
    )
    started = time.monotonic()
    reply = await stub.SubmitFeedback(pb.SubmitFeedbackRequest(feedback=sent))
    answered = time.monotonic() - started
    assert reply.created

    async def analysed():
        page = await stub.ListStoryFeedback(pb.ListStoryFeedbackRequest(story_id=story))
        return page.feedback[0] if page.feedback and page.feedback[0].analyzed else None

    # The 1 s target is measured by bench/feedback on a quiet machine; here a loaded CI
    # machine gets slack, while the answer itself must not wait for the analysis.
    got = await eventually(analysed, timeout=5.0)
    assert answered < 1.0
    assert got.sentiment_label in ("negative", "neutral", "positive")
    assert 0.0 <= got.sentiment_score <= 1.0 and got.sentiment_score != pytest.approx(0.99)
    aspects = {(a.aspect, a.polarity): a.evidence for a in got.aspects}
    assert aspects[("ending", "negative")] == "confusing"
    assert aspects[("illustrations", "positive")] == "gorgeous"


async def test_sentiment_follows_the_comment(stub):
    story = new_id("story")
    happy = entry(story_id=story, comment="Wonderful, funny and sweet. We adore it!", categories=[])
    sad = entry(
        story_id=story, comment="Terrible, boring and awful. My son hated it.", categories=[], rating=1
    )
    for sent in (happy, sad):
        await stub.SubmitFeedback(pb.SubmitFeedbackRequest(feedback=sent))

    async def both():
        page = await stub.ListStoryFeedback(pb.ListStoryFeedbackRequest(story_id=story))
        return {f.feedback_id: f for f in page.feedback if f.analyzed} if len(page.feedback) == 2 else None

    async def analysed():
        found = await both()
        return found if found and len(found) == 2 else None

    found = await eventually(analysed)
    assert found[happy.feedback_id].sentiment_label == "positive"
    assert found[sad.feedback_id].sentiment_label == "negative"
    assert found[happy.feedback_id].sentiment_score > 0.8 > 0.2 > found[sad.feedback_id].sentiment_score


async def test_ticked_categories_become_aspects_when_the_text_is_silent(stub):
    story = new_id("story")
    sent = entry(story_id=story, comment="", categories=["voice_narration"], rating=5)
    await stub.SubmitFeedback(pb.SubmitFeedbackRequest(feedback=sent))

    async def analysed():
        page = await stub.ListStoryFeedback(pb.ListStoryFeedbackRequest(story_id=story))
        return page.feedback[0] if page.feedback and page.feedback[0].analyzed else None

    got = await eventually(analysed)
    assert [(a.aspect, a.polarity, a.evidence) for a in got.aspects] == [
        ("voice_narration", "positive", "category")
    ]
    assert got.sentiment_label == ""


async def test_lost_analysis_messages_are_swept_up(stub, db):
    # A row stored without its bus message (as if the publish had failed after the commit).
    story = new_id("story")
    feedback_id = new_id("fb")
    await db.execute(
        "INSERT INTO feedback (feedback_id, user_id, story_id, ts, rating, comment, received_at)"
        " VALUES ($1, 'user-1', $2, now(), 2, 'The narrator sounded robotic.',"
        " now() - interval '10 minutes')",
        feedback_id,
        story,
    )

    async def analysed():
        return await db.fetchval("SELECT analyzed FROM feedback WHERE feedback_id = $1", feedback_id)

    await eventually(analysed, timeout=8.0)  # the sweeper looks every 5 s
    aspects = await db.fetchval("SELECT aspects::text FROM feedback WHERE feedback_id = $1", feedback_id)
    assert "voice_narration" in aspects


class SlowScorer:
    """A model that takes its time, as a big one on a busy machine would."""

    def score_batch(self, texts: list[str]) -> list[tuple[float, str]]:
        time.sleep(1.5)
        return [(0.5, "neutral") for _ in texts]


async def test_the_caller_never_waits_for_the_analysis(settings, db):
    bus = InProcessBus()
    service = await start_service(spec(scorer_factory=SlowScorer), settings, bus)
    await bus.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            slow_stub = pb_grpc.FeedbackServiceStub(channel)
            sent = [entry(story_id=new_id("story")) for _ in range(3)]
            started = time.monotonic()
            for one in sent:
                assert (await slow_stub.SubmitFeedback(pb.SubmitFeedbackRequest(feedback=one))).created
            assert time.monotonic() - started < 0.5  # three answers while one analysis takes 1.5 s
            ids = [s.feedback_id for s in sent]
            stored = await db.fetchval(
                "SELECT count(*) FROM feedback WHERE feedback_id = ANY($1::text[])", ids
            )
            assert stored == 3

            async def analysed():
                n = await db.fetchval(
                    "SELECT count(*) FROM feedback WHERE analyzed AND feedback_id = ANY($1::text[])", ids
                )
                return n == 3

            await eventually(analysed, timeout=5.0)
    finally:
        await service.stop(grace=0.5)
        await bus.aclose()
