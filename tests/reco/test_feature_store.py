"""One behaviour, two backends: the same tests against the memory store and against Redis.

Redis is the local server on 127.0.0.1:6379 (or SV_TEST_REDIS_URL); without one the Redis
parameter is skipped, saying so. Then: Redis going away degrades as documented, in time.
Last, the memory store's own bounds: its byte budget, measured with tracemalloc, and
expired entries leaving memory when their time comes.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time
import tracemalloc
import uuid

import pytest

from common.settings import Settings
from reco_svc.features import FeatureLimits, create_feature_store
from reco_svc.features.memory import MemoryFeatureStore
from reco_svc.features.redis import RedisFeatureStore
from tests.common.redis_fixtures import NO_REDIS, FreezableProxy, delete_prefix, local_redis_url
from tests.conftest import free_port

LIMITS = FeatureLimits(recent_keep=5, recent_ttl=60, bucket_seconds=60, counter_retention=3600)


@pytest.fixture(params=["memory", "redis"])
async def store(request):
    if request.param == "memory":
        yield MemoryFeatureStore(LIMITS)
        return
    url = local_redis_url()
    if url is None:
        pytest.skip(NO_REDIS)
    prefix = f"sv:test:{uuid.uuid4().hex[:8]}:"
    redis_store = RedisFeatureStore(url, timeout=1.0, limits=LIMITS, prefix=prefix)
    yield redis_store
    await redis_store.aclose()
    await delete_prefix(url, prefix)


async def test_recent_selections_newest_first_and_capped(store):
    for n in range(8):
        await store.push_recent("user-1", f"story-{n}")
    assert await store.recent("user-1") == ["story-7", "story-6", "story-5", "story-4", "story-3"]
    assert await store.recent("user-1", limit=2) == ["story-7", "story-6"]
    assert await store.recent("nobody") == []


async def test_counters_sum_the_buckets_of_the_window(store):
    now = time.time()
    bucket = LIMITS.bucket_seconds
    await store.incr("trending", "story-a", 3, at=now)
    await store.incr("trending", "story-b", 2, at=now)
    await store.incr("trending", "story-b", 2, at=now - bucket)  # the previous bucket
    await store.incr("trending", "story-c", 9, at=now - 10 * bucket)  # outside a 5-bucket window
    assert await store.top("trending", window=5 * bucket, now=now) == [("story-b", 4.0), ("story-a", 3.0)]
    assert await store.top("trending", window=5 * bucket, limit=1, now=now) == [("story-b", 4.0)]
    assert (await store.top("trending", window=20 * bucket, now=now))[0] == ("story-c", 9.0)
    assert await store.top("other", window=bucket, now=now) == []


async def test_cache_entries_expire(store):
    await store.set("reco:user-1", b"payload", ttl=0.3)
    await store.set("reco:user-2", b"kept", ttl=30)
    assert await store.get("reco:user-1") == b"payload"
    await asyncio.sleep(0.4)
    assert await store.get("reco:user-1") is None
    assert await store.get("reco:user-2") == b"kept"
    await store.delete("reco:user-2")
    assert await store.get("reco:user-2") is None


def test_the_factory_picks_redis_only_when_configured():
    assert isinstance(create_feature_store(Settings()), MemoryFeatureStore)
    redis_store = create_feature_store(Settings(redis_url="redis://127.0.0.1:1/0"))
    assert isinstance(redis_store, RedisFeatureStore)


async def test_redis_refusing_connections_degrades_to_memory_within_the_timeout(caplog):
    store = RedisFeatureStore(
        f"redis://127.0.0.1:{free_port()}/0", timeout=0.2, retry_after=60, limits=LIMITS
    )
    try:
        with caplog.at_level(logging.WARNING, logger="common.circuit"):
            started = time.monotonic()
            await store.push_recent("user-1", "story-1")  # answered by the fallback
            assert await store.recent("user-1") == ["story-1"]
            await store.set("k", b"v", ttl=10)
            assert await store.get("k") == b"v"
            assert time.monotonic() - started < 1.0
        assert store.guard.breaker.is_open
        warnings = [r for r in caplog.records if "unavailable" in r.getMessage()]
        assert len(warnings) == 1, "one warning per outage, not one per call"
    finally:
        await store.aclose()


async def test_a_hung_redis_costs_one_timeout_then_nothing_and_is_used_again_when_back():
    url = local_redis_url()
    if url is None:
        pytest.skip(NO_REDIS)
    prefix = f"sv:test:{uuid.uuid4().hex[:8]}:"
    async with FreezableProxy(url) as proxy:
        store = RedisFeatureStore(proxy.url, timeout=0.2, retry_after=0.5, limits=LIMITS, prefix=prefix)
        try:
            await store.push_recent("user-1", "in-redis")
            proxy.freeze()
            started = time.monotonic()
            assert await store.recent("user-1") == []  # the timeout, then the (empty) fallback
            first = time.monotonic() - started
            started = time.monotonic()
            await store.push_recent("user-1", "in-memory")
            assert await store.recent("user-1") == ["in-memory"]  # breaker open: no waiting at all
            # The breaker is open: the second pair of calls does not wait for the 0.2 s timeout.
            assert first < 0.5 and time.monotonic() - started < 0.15
            proxy.thaw()
            await asyncio.sleep(0.6)  # retry_after passes; the next call tries Redis again
            assert await store.recent("user-1") == ["in-redis"]
            assert not store.guard.breaker.is_open
        finally:
            await store.aclose()
            await delete_prefix(url, prefix)


async def test_writes_made_while_redis_was_away_reach_it_when_it_answers_again():
    """Another replica reads Redis: it sees what this one wrote during the outage once Redis is
    back, each counter increment once (the timed-out one ran when the held bytes went through:
    it is not sent again), and nothing of a user erased meanwhile."""
    url = local_redis_url()
    if url is None:
        pytest.skip(NO_REDIS)
    prefix = f"sv:test:{uuid.uuid4().hex[:8]}:"
    now = time.time()
    async with FreezableProxy(url) as proxy:
        store = RedisFeatureStore(proxy.url, timeout=0.2, retry_after=0.5, limits=LIMITS, prefix=prefix)
        other = RedisFeatureStore(url, timeout=1.0, limits=LIMITS, prefix=prefix)
        try:
            assert await store.recent("user-1") == []  # connected: the next call's bytes leave
            proxy.freeze()
            await store.incr("trending", "story-1", at=now)  # times out: may run later, not kept
            await store.incr("trending", "story-2", at=now)  # breaker open: never sent, kept
            await store.push_recent("user-1", "while-away")
            await store.push_recent("user-2", "erased-meanwhile")
            await store.forget_recent("user-2")  # erased meanwhile: its kept push goes too
            assert len(store.unsent) == 2
            proxy.thaw()
            await asyncio.sleep(0.6)
            await store.recent("user-1")  # the call that finds Redis back; the replay follows
            deadline = time.monotonic() + 5
            while store.unsent and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert await other.recent("user-1") == ["while-away"]
            assert await other.recent("user-2") == []
            assert await other.top("trending", 60, now=now) == [("story-1", 1.0), ("story-2", 1.0)]
        finally:
            await store.aclose()
            await other.aclose()
            await delete_prefix(url, prefix)


async def test_kept_writes_are_bounded_and_dropped_ones_counted(monkeypatch):
    import reco_svc.features.redis as redis_module

    monkeypatch.setattr(redis_module, "REPLAY_LIMIT", 3)
    store = RedisFeatureStore(f"redis://127.0.0.1:{free_port()}/0", timeout=0.2, limits=LIMITS)
    try:
        for n in range(5):
            await store.push_recent("user-1", f"item-{n}")  # refused, then the breaker is open
        assert [w[2] for w in store.unsent] == ["item-2", "item-3", "item-4"]
        assert await store.recent("user-1") == ["item-4", "item-3", "item-2", "item-1", "item-0"]
    finally:
        await store.aclose()


def _selection(n: int) -> str:
    """A recent item as the engine stores it (reco_svc/features/shared.py): ~140 characters."""
    facts = {"e": f"evt-{n:032x}", "t": "2026-11-25T10:53:41+00:00", "a": "6-8", "d": "tablet"}
    return json.dumps({**facts, "i": [["story:story-123", 1.0, "story_view"]]}, separators=(",", ":"))


async def test_the_byte_budget_holds_under_many_users_as_measured_by_tracemalloc():
    budget = 2 * 2**20
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        store = MemoryFeatureStore(FeatureLimits(recent_keep=200), max_bytes=budget)
        n = 0
        for user in range(20_000):  # ~40 MiB without a bound
            for _ in range(1 + user % 13):  # 1 to 13 selections: users differ in size
                n += 1
                await store.push_recent(f"user-{user}", _selection(n))
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert store.bytes <= budget
    # The estimate is what the budget counts; it must track what Python really holds.
    assert 0.8 * budget <= held <= 1.15 * budget, f"{held / 2**20:.2f} MiB held for a 2 MiB budget"
    # The least recently used went first; the latest users are whole.
    assert await store.recent("user-0") == []
    assert len(await store.recent("user-19999")) == 1 + 19_999 % 13
    assert await store.recent("user-19998", limit=1) == [_selection(n - 1 - 19_999 % 13)]


async def test_recent_answers_stay_exact_while_the_budget_evicts():
    store = MemoryFeatureStore(FeatureLimits(recent_keep=5), max_bytes=64 * 1024)
    expected: dict[str, list[str]] = {}
    n = 0
    for round_ in range(40):
        for user in range(200):
            if (user + round_) % 3:
                continue
            n += 1
            kept = expected.get(f"user-{user}", []) if await store.recent(f"user-{user}") else []
            await store.push_recent(f"user-{user}", f"story-{n}")
            expected[f"user-{user}"] = [f"story-{n}", *kept][:5]
        await store.recent("user-7")  # read every round: the most recently used is kept
    assert len(store) < 200 and store.bytes <= 64 * 1024
    answers = {user: await store.recent(user) for user in expected}
    evicted = [user for user, answer in answers.items() if not answer]
    assert evicted, "the budget evicted nobody: the test proves nothing"
    for user, answer in answers.items():
        # An evicted user is forgotten entirely (then starts afresh), never half-kept.
        assert answer in ([], expected[user]), user
    assert answers["user-7"] == expected["user-7"]


async def test_expired_entries_leave_memory_without_being_read():
    now = [1_000_000.0]
    store = MemoryFeatureStore(LIMITS, clock=lambda: now[0])  # recent_ttl 60, retention 3600
    await store.push_recent("idle", "story-1")
    await store.push_recent("active", "story-1")
    await store.set("long", b"x" * 1000, ttl=500)
    await store.set("short", b"y" * 1000, ttl=5)  # expires before "long", written after it
    await store.incr("trending", "story-1")
    assert len(store) == 5
    now[0] += 30
    await store.push_recent("active", "story-2")  # an idle TTL: pushing extends it
    now[0] += 40  # "idle" is 70 s untouched, "active" 40 s; "short" is long gone
    await store.get("unrelated")  # any call sweeps; nobody reads the expired keys
    assert len(store) == 3  # "active", "long", "trending"
    assert await store.recent("active") == ["story-2", "story-1"]
    now[0] += 500 + LIMITS.counter_retention + LIMITS.bucket_seconds  # past every deadline
    await store.get("unrelated")
    assert len(store) == 0 and store.bytes == 0


async def test_forgetting_a_user_in_this_process_drops_its_kept_writes_too():
    """The erasure step every pod runs (SharedFeatures.forget_local): the fallback's copy and the
    writes kept for Redis both go, so a later recovery cannot bring the user back."""
    store = RedisFeatureStore(f"redis://127.0.0.1:{free_port()}/0", timeout=0.2, limits=LIMITS)
    try:
        await store.push_recent("user-1", "kept")
        await store.push_recent("user-2", "kept too")
        await store.forget_local(recent=["user-1"])
        assert [w[1] for w in store.unsent] == ["user-2"]
        assert await store.fallback.recent("user-1") == []
    finally:
        await store.aclose()
