"""Fixtures for the feedback service: the real service on loopback, scored by the
shipped ONNX sentiment model (feedback_svc/models/sentiment/)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import grpc
import pytest
from storyverse.feedback.v1 import feedback_service_pb2 as pb
from storyverse.feedback.v1 import feedback_service_pb2_grpc as pb_grpc

from common.bus import BusMessage
from common.bus.inprocess import InProcessBus
from common.grpc_server import RunningService
from feedback_svc.sentiment.scoring import load_model
from feedback_svc.service import spec
from tests.conftest import start_service


class Collector:
    """A bus subscriber that keeps what it receives (e.g. catalog.visibility)."""

    def __init__(self) -> None:
        self.messages: list[BusMessage] = []

    async def __call__(self, batch: list[BusMessage]) -> None:
        self.messages.extend(batch)


@pytest.fixture(scope="session")
def visibility() -> Collector:
    """Every catalog.visibility message the service publishes."""
    return Collector()


@pytest.fixture(scope="session")
async def feedback_bus(visibility) -> AsyncIterator[InProcessBus]:
    # A bus of its own, started only after every subscriber is in: the in-process
    # bus does not deliver to groups subscribed after a start() that had none
    # (common/bus/inprocess.py infers "started" from its task list).
    bus = InProcessBus()
    bus.subscribe("catalog.visibility", "test-visibility", visibility)
    yield bus
    await bus.aclose()


@pytest.fixture(scope="session")
async def feedback(settings, feedback_bus, analytics) -> AsyncIterator[RunningService]:
    # The analytics service first: its migrations create the events table that
    # story metadata is read from.
    service = await start_service(spec(scorer_factory=load_model), settings, feedback_bus)
    await feedback_bus.start()
    yield service
    await service.stop(grace=1)


@pytest.fixture
async def channel(feedback: RunningService) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{feedback.port}") as channel:
        yield channel


@pytest.fixture
def stub(channel) -> pb_grpc.FeedbackServiceStub:
    return pb_grpc.FeedbackServiceStub(channel)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def entry(**changes: object) -> pb.FeedbackEntry:
    """A valid Feedback Entry (the seed's shape) with fresh ids; keyword arguments override."""
    fields: dict[str, object] = {
        "feedback_id": new_id("fb"),
        "user_id": "user-789012",
        "story_id": "story-123456",
        "timestamp": now_iso(),
        "rating": 4,
        "comment": "My daughter loved the characters and the beautiful illustrations!",
        "categories": ["characters", "illustrations"],
        "child_age": 6,
        "device_type": "tablet",
        "platform": "ios",
    }
    fields.update(changes)
    return pb.FeedbackEntry(**fields)


async def eventually(check: Callable[[], Awaitable[object]], timeout: float = 1.0, interval: float = 0.02):
    """Poll check() until it returns something truthy; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


@pytest.fixture
def analytics_stub(analytics_channel):
    from storyverse.analytics.v1 import analytics_service_pb2_grpc

    return analytics_service_pb2_grpc.AnalyticsServiceStub(analytics_channel)


async def record_story(
    analytics_stub, story_id: str, universes: list[str], characters: list[str], theme: str
):
    """Record a story_creation event through the analytics service (where story metadata comes from)."""
    from storyverse.analytics.v1 import analytics_service_pb2 as apb

    from tests.events import SEED_EVENT, event

    properties = {**SEED_EVENT["properties"], "story_id": story_id, "universes": universes}
    properties.update({"characters": characters, "theme": theme})
    reply = await analytics_stub.RecordEvent(apb.RecordEventRequest(event=event(properties=properties)))
    assert reply.result.accepted == 1


async def submit(stub, **changes: object) -> pb.FeedbackEntry:
    sent = entry(**changes)
    reply = await stub.SubmitFeedback(pb.SubmitFeedbackRequest(feedback=sent))
    assert reply.created
    return sent


async def wait_analysed(db, feedback_ids: list[str], timeout: float = 2.0) -> None:
    async def done():
        n = await db.fetchval(
            "SELECT count(*) FROM feedback WHERE analyzed AND feedback_id = ANY($1::text[])", feedback_ids
        )
        return n == len(feedback_ids)

    await eventually(done, timeout=timeout)


class Pipeline:
    """The service's way from a stored row to its analysis: the batch publisher, then the bus."""

    def __init__(self, service: RunningService, bus: InProcessBus) -> None:
        self.service = service
        self.bus = bus

    async def drain(self) -> None:
        await self.service.component.publisher.flush()
        await self.bus.drain()


@pytest.fixture
def pipeline(feedback, feedback_bus) -> Pipeline:
    return Pipeline(feedback, feedback_bus)


async def settled(pipeline: Pipeline, db, feedback_ids: str | list[str]) -> None:
    """Wait until the pipeline is idle (analysis and the alerts it raised are done),
    then check the feedback is analysed."""
    ids = [feedback_ids] if isinstance(feedback_ids, str) else list(feedback_ids)
    await pipeline.drain()
    n = await db.fetchval(
        "SELECT count(*) FROM feedback WHERE analyzed AND feedback_id = ANY($1::text[])", ids
    )
    assert n == len(ids)
