"""The token bucket, the same tests for the memory and the Redis backend (skipped without Redis)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import pytest

from common.ratelimit import create_rate_limiter
from common.ratelimit.memory import MemoryRateLimiter
from common.ratelimit.redis import RedisRateLimiter
from common.settings import Settings
from tests.common.redis_fixtures import NO_REDIS, delete_prefix, local_redis_url
from tests.conftest import free_port


@pytest.fixture(params=["memory", "redis"])
async def make(request):
    made = []
    url = prefix = None
    if request.param == "redis":
        url = local_redis_url()
        if url is None:
            pytest.skip(NO_REDIS)
        prefix = f"sv:test:{uuid.uuid4().hex[:8]}:"

    def build(rate: float, burst: float):
        limiter = (
            MemoryRateLimiter(rate, burst)
            if url is None
            else RedisRateLimiter(url, rate, burst, timeout=1.0, prefix=prefix)
        )
        made.append(limiter)
        return limiter

    yield build
    for limiter in made:
        await limiter.aclose()
    if url is not None:
        await delete_prefix(url, prefix)


async def test_a_burst_passes_then_the_next_request_waits_for_a_token(make):
    limiter = make(rate=0.5, burst=3)
    waits = [await limiter.acquire("user-1") for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(2.0, abs=0.1)  # one token at 0.5 per second
    assert await limiter.acquire("user-2") == 0.0, "buckets are per key"


async def test_tokens_refill_at_the_rate(make):
    limiter = make(rate=20, burst=1)
    assert await limiter.acquire("k") == 0.0
    assert await limiter.acquire("k") > 0
    await asyncio.sleep(0.08)
    assert await limiter.acquire("k") == 0.0


async def test_cost_takes_several_tokens_and_a_refusal_takes_none(make):
    limiter = make(rate=0.1, burst=10)
    assert await limiter.acquire("k", cost=6) == 0.0
    assert await limiter.acquire("k", cost=6) == pytest.approx(20, abs=0.1)  # 4 left, 2 missing at 0.1/s
    assert await limiter.acquire("k", cost=4) == 0.0


async def test_a_cost_above_the_burst_takes_a_full_bucket_rather_than_waiting_forever(make):
    limiter = make(rate=1, burst=5)
    assert await limiter.acquire("k", cost=50) == 0.0  # e.g. 50 merged calls, a bucket of 5
    assert await limiter.acquire("k", cost=50) == pytest.approx(5.0, abs=0.1)  # until the bucket is full


async def test_concurrent_requests_never_overdraw(make):
    limiter = make(rate=0.01, burst=10)
    waits = await asyncio.gather(*(limiter.acquire("shared") for _ in range(50)))
    assert sum(wait == 0.0 for wait in waits) == 10


def test_the_factory_picks_redis_only_when_configured():
    assert isinstance(create_rate_limiter(Settings(), 1, 1), MemoryRateLimiter)
    assert isinstance(
        create_rate_limiter(Settings(redis_url="redis://127.0.0.1:1/0"), 1, 1), RedisRateLimiter
    )
    with pytest.raises(ValueError):
        MemoryRateLimiter(0, 1)


async def test_redis_down_falls_back_to_the_pods_own_buckets_within_the_timeout(caplog):
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{free_port()}/0", rate=0.5, burst=2, timeout=0.2)
    try:
        with caplog.at_level(logging.WARNING, logger="common.circuit"):
            started = time.monotonic()
            allowed = [await limiter.acquire("user-1") == 0.0 for _ in range(3)]
            assert time.monotonic() - started < 1.0
        assert allowed == [True, True, False]  # still limited, by this process alone
        assert len([r for r in caplog.records if "unavailable" in r.getMessage()]) == 1
    finally:
        await limiter.aclose()
