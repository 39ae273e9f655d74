"""Acknowledged feedback is durable: SIGKILL the feedback service under load, then look."""

from __future__ import annotations

import asyncio
import signal
import uuid
from datetime import UTC, datetime

import grpc
from storyverse.feedback.v1 import feedback_service_pb2 as pb
from storyverse.feedback.v1 import feedback_service_pb2_grpc as pb_grpc

from tests.conftest import free_port, service_env, spawn, wait_serving

WORKERS = 6


def entry() -> pb.FeedbackEntry:
    return pb.FeedbackEntry(
        feedback_id=f"fb-{uuid.uuid4().hex}",
        user_id=f"kid-{uuid.uuid4().hex[:6]}",
        story_id="story-123456",
        timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        rating=4,
        comment="the dragon was funny",
        device_type="tablet",
        platform="ios",
    )


async def load(target: str, seconds: float, acknowledged: list[str], failures: list[int]) -> None:
    stop = asyncio.Event()

    async def worker(stub) -> None:
        while not stop.is_set():
            item = entry()
            try:
                await stub.SubmitFeedback(pb.SubmitFeedbackRequest(feedback=item), timeout=5)
            except grpc.aio.AioRpcError:
                failures.append(1)
                await asyncio.sleep(0.05)
                continue
            acknowledged.append(item.feedback_id)

    async with grpc.aio.insecure_channel(target) as channel:
        stub = pb_grpc.FeedbackServiceStub(channel)
        workers = [asyncio.create_task(worker(stub)) for _ in range(WORKERS)]
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*workers)


async def test_sigkill_of_the_feedback_service_loses_no_acknowledged_feedback(settings, db, tmp_path):
    port = free_port()
    target = f"127.0.0.1:{port}"
    process = spawn("feedback_svc", service_env(settings, feedback_port=port), tmp_path / "feedback.log")
    try:
        wait_serving(target)
        async with grpc.aio.insecure_channel(target) as channel:
            await pb_grpc.FeedbackServiceStub(channel).SubmitFeedback(
                pb.SubmitFeedbackRequest(feedback=entry()), timeout=5
            )
        acknowledged: list[str] = []
        failures: list[int] = []
        running = asyncio.create_task(load(target, 3.0, acknowledged, failures))
        await asyncio.sleep(2.0)
        process.send_signal(signal.SIGKILL)
        await running
        process.wait(timeout=10)
        assert len(acknowledged) > 100, "the load did not get going"
        assert failures, "the kill did not interrupt the load"
        stored = await db.fetchval(
            "SELECT count(*) FROM feedback WHERE feedback_id = ANY($1::text[])", acknowledged
        )
        assert stored == len(acknowledged)
    finally:
        process.kill()
        process.wait()
