"""Backpressure and deadlines: refusals come at once with a retry hint, memory stays bounded."""

from __future__ import annotations

import asyncio
import contextlib

import grpc
import pytest

from analytics_svc.ingestion.writer import GroupCommitWriter
from common.errors import ResourceExhausted
from common.limits import Call, DeadlineExceeded, concurrency_guard, deadline_guard
from common.ratelimit.memory import MemoryRateLimiter

CALL = Call("/storyverse.analytics.v1.AnalyticsService/GetReport", (), streaming=False)


async def test_the_concurrency_cap_refuses_at_once_with_retry_after():
    guard = concurrency_guard(2)
    async with guard(CALL), guard(CALL):
        with pytest.raises(ResourceExhausted) as refused:
            async with guard(CALL):
                pass
        assert refused.value.retry_after == 1
    async with guard(CALL):  # slots come back
        pass


async def test_streams_do_not_take_slots():
    guard = concurrency_guard(1)
    async with guard(CALL), guard(Call("/x.v1.S/Watch", (), streaming=True)):
        pass


async def test_the_server_side_deadline_ends_a_slow_call():
    guard = deadline_guard(0.05)
    with pytest.raises(DeadlineExceeded):
        async with guard(CALL):
            await asyncio.sleep(1)
    assert DeadlineExceeded.code == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_other_timeouts_inside_the_call_are_not_mistaken_for_the_deadline():
    guard = deadline_guard(5)
    with pytest.raises(TimeoutError):
        async with guard(CALL):
            raise TimeoutError


async def test_token_bucket_per_key():
    limiter = MemoryRateLimiter(rate=10, burst=2)
    assert [await limiter.acquire("k") for _ in range(2)] == [0.0, 0.0]
    wait = await limiter.acquire("k")
    assert 0 < wait <= 0.1
    assert await limiter.acquire("other") == 0.0


async def test_buckets_are_bounded():
    limiter = MemoryRateLimiter(rate=1, burst=1, max_keys=100)
    for n in range(1000):
        await limiter.acquire(f"k{n}")
    assert len(limiter._buckets) == 100


class StalledPool:
    """A pool whose connections never come: PostgreSQL is slow or gone."""

    async def acquire(self):
        await asyncio.sleep(3600)

    async def release(self, conn):
        pass


async def test_the_ingestion_queue_is_bounded():
    writer = GroupCommitWriter(StalledPool(), max_rows=10, parallel_flushes=1, max_pending_rows=50)
    rows = [("e", "u")] * 10
    waiting = [asyncio.create_task(writer.write(rows, [], "grpc")) for _ in range(3)]
    await asyncio.sleep(0.05)  # one group is being flushed (stalled), the rest wait
    with pytest.raises(ResourceExhausted) as refused:
        for _ in range(10):  # callers that give up leave their rows queued: the bound still holds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(writer.write(rows, [], "grpc"), 0.01)
    assert refused.value.retry_after == 1
    assert writer._pending_rows <= 50
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    for task in list(writer._flushes):
        task.cancel()
    writer._task.cancel()
    await asyncio.gather(writer._task, *writer._flushes, return_exceptions=True)
