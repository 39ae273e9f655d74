"""Reco's features in reco_svc/features: the same answers from memory and Redis, shared between
two engines on one Redis, redeliveries counted once, popularity only while Redis is down."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from common.privacy.tombstones import Tombstones
from reco_svc.features.memory import MemoryFeatureStore
from reco_svc.features.redis import RedisFeatureStore
from reco_svc.features.shared import SharedFeatures, limits
from reco_svc.features.user import UserFeatures
from reco_svc.interactions import EventFacts, decay, interactions_of
from reco_svc.reading import UNIFORM, ReadingWeights, weight_of, with_rereads
from reco_svc.serving import Recommender
from tests.common.redis_fixtures import NO_REDIS, FreezableProxy, delete_prefix, local_redis_url

NOW = datetime.now(UTC)


def pick(user: str, universe: str, days_ago: float = 0, age_group: str = "6-8") -> EventFacts:
    return EventFacts(
        f"evt-{uuid.uuid4().hex}",
        user,
        "story_creation",
        NOW - timedelta(days=days_ago),
        universes=(universe,),
        age_group=age_group,
        device_type="tablet",
    )


@pytest.fixture(params=["memory", "redis"])
async def backends(request):
    """Two SharedFeatures as two replicas would hold them: one memory store each, or one Redis."""
    if request.param == "memory":
        yield SharedFeatures(MemoryFeatureStore(limits())), None
        return
    url = local_redis_url()
    if url is None:
        pytest.skip(NO_REDIS)
    prefix = f"sv:test:{uuid.uuid4().hex[:8]}:"
    a = SharedFeatures(RedisFeatureStore(url, timeout=1.0, limits=limits(), prefix=prefix))
    b = SharedFeatures(RedisFeatureStore(url, timeout=1.0, limits=limits(), prefix=prefix))
    yield a, b
    await a.aclose()
    await b.aclose()
    await delete_prefix(url, prefix)


async def test_history_and_live_events_merge_and_redeliveries_count_once(backends):
    features, other = backends
    user = f"user-{uuid.uuid4().hex[:8]}"
    assert await features.get(user) is None
    old = pick(user, "toy-story", days_ago=3, age_group="3-5")
    history = UserFeatures(loaded=True)
    history.add(old, interactions_of(old))
    await features.put(user, history)
    live = pick(user, "dragon-ball")
    await features.add(live, interactions_of(live))
    await features.add(live, interactions_of(live))  # at least once: the same event again
    got = await features.get(user)
    assert got.loaded and set(got.events) == {old.event_id, live.event_id}
    assert got.age_group == "6-8" and got.device_type == "tablet"  # the newest event's
    assert got.vector(NOW) == pytest.approx(
        {"universe:toy-story": history.vector(NOW)["universe:toy-story"], "universe:dragon-ball": 1.3862944}
    )
    if other is not None:  # another replica on the same Redis sees the same features
        assert (await other.get(user)).vector(NOW) == pytest.approx(got.vector(NOW))


async def test_features_decoded_once_follow_every_change_in_the_store(backends):
    """get() reuses what it decoded while the stored values are the same; a live event or a new
    history (here or from another replica on the same Redis) shows in the next get."""
    features, other = backends
    writer = other or features
    user = f"user-{uuid.uuid4().hex[:8]}"
    history = UserFeatures(loaded=True)
    old = pick(user, "toy-story", days_ago=3)
    history.add(old, interactions_of(old))
    await features.put(user, history)
    first = await features.get(user)
    assert await features.get(user) is first  # unchanged: decoded once
    live = pick(user, "dragon-ball")
    await writer.add(live, interactions_of(live))
    got = await features.get(user)
    assert set(got.events) == {old.event_id, live.event_id}
    assert set(got.vector(NOW)) == {"universe:toy-story", "universe:dragon-ball"}
    newer = pick(user, "frozen", days_ago=1)
    history.add(newer, interactions_of(newer))
    await writer.put(user, history)
    assert set((await features.get(user)).vector(NOW)) == {
        "universe:toy-story", "universe:dragon-ball", "universe:frozen"
    }  # fmt: skip


def reading(user: str, kind: str, story: str, days_ago: float, **fields) -> EventFacts:
    return EventFacts(f"evt-{uuid.uuid4().hex}", user, kind, NOW - timedelta(days=days_ago), story, **fields)


def test_a_vector_is_the_decayed_sum_of_its_interactions_after_every_add():
    """vector() keeps its per-interaction inputs between calls: the same floats as decaying every
    interaction (re-reads included) at each call, and a new event counts from the next call."""

    def expected(features: UserFeatures, now: datetime, weights: ReadingWeights) -> dict[str, float]:
        totals: dict[str, float] = {}
        flat = [i for interactions in features.events.values() for i in interactions]
        for i in with_rereads(flat):
            totals[i.key] = totals.get(i.key, 0.0) + decay(weight_of(i, weights), i.ts, now)
        return {key: math.log1p(max(total, 0.0)) for key, total in totals.items()}

    user = "kid-vector"
    features = UserFeatures(loaded=True)
    events = [
        pick(user, "toy-story", days_ago=40.123456),
        reading(user, "story_view", "s1", 9.5, duration=120.0, position=60.0),
        reading(user, "story_completed", "s1", 9.0),
        reading(user, "story_view", "s1", 2.25, duration=30.0, position=10.0),  # a re-read
    ]
    for n, facts in enumerate(events):
        features.add(facts, interactions_of(facts))
        for weights in (ReadingWeights(), UNIFORM):
            for now in (NOW, NOW + timedelta(hours=n, microseconds=7)):
                assert features.vector(now, weights) == expected(features, now, weights)
    assert "story:s1" in features.vector(NOW)


async def test_while_redis_is_down_serving_answers_from_popularity_without_postgresql():
    url = local_redis_url()
    if url is None:
        pytest.skip(NO_REDIS)
    async with FreezableProxy(url) as proxy:
        features = SharedFeatures(RedisFeatureStore(proxy.url, timeout=0.1, retry_after=30, limits=limits()))
        recommender = Recommender(None, None, None, features, None)  # no pool: PostgreSQL is not asked
        proxy.freeze()
        got = await recommender.features_for("user-x")
        assert features.degraded and got.loaded and not got.events
        await features.aclose()


async def test_an_erasure_removes_live_and_cached_features_for_every_replica(backends):
    features, other = backends
    erased, kept = (f"kid-{uuid.uuid4().hex[:8]}" for _ in range(2))
    for user in (erased, kept):
        old = pick(user, "toy-story", days_ago=3)
        history = UserFeatures(loaded=True)
        history.add(old, interactions_of(old))
        await features.put(user, history)
        live = pick(user, "dragon-ball")
        await features.add(live, interactions_of(live))
    assert await features.erase(erased) == 2  # the recent list and the cached history
    assert await features.erase(erased) == 0  # idempotent: the verifying pass finds nothing
    for replica in [features] + ([other] if other else []):
        assert await replica.get(erased) is None
        assert set((await replica.get(kept)).vector(NOW)) == {"universe:toy-story", "universe:dragon-ball"}


async def test_a_tombstone_hides_what_the_store_still_holds_from_before_the_erasure():
    """Until the erasure step has emptied the store (Redis paused), reads and history caching
    leave out everything of the user up to the erasure; what came after stays."""
    tombstones = Tombstones(86400, salt="s")
    features = SharedFeatures(MemoryFeatureStore(limits()), tombstones)
    user = f"kid-{uuid.uuid4().hex[:8]}"
    before, after = pick(user, "toy-story", days_ago=1), pick(user, "dragon-ball")
    history = UserFeatures(loaded=True)
    history.add(before, interactions_of(before))
    await features.put(user, history)
    await features.add(after, interactions_of(after))
    tombstones.learn(tombstones.hash(user), NOW - timedelta(hours=1))
    got = await features.get(user)
    assert set(got.vector(NOW)) == {"universe:dragon-ball"}
    await features.put(user, history)  # a history read from PostgreSQL before its rows went
    assert set((await features.get(user)).vector(NOW)) == {"universe:dragon-ball"}


async def test_a_paused_redis_fails_the_erasure_instead_of_answering_from_the_fallback():
    url = local_redis_url()
    if url is None:
        pytest.skip(NO_REDIS)
    prefix = f"sv:test:{uuid.uuid4().hex[:8]}:"
    user = f"kid-{uuid.uuid4().hex[:8]}"
    try:
        async with FreezableProxy(url) as proxy:
            features = SharedFeatures(
                RedisFeatureStore(proxy.url, timeout=0.2, limits=limits(), prefix=prefix)
            )
            live = pick(user, "dragon-ball")
            await features.add(live, interactions_of(live))
            proxy.freeze()
            with pytest.raises(TimeoutError):
                await features.erase(user)
            proxy.thaw()
            await features.aclose()
            # The retry confirms it (the DEL held in the frozen connection may have run meanwhile).
            features = SharedFeatures(
                RedisFeatureStore(proxy.url, timeout=1.0, limits=limits(), prefix=prefix)
            )
            assert await features.erase(user) in (0, 1)
            assert await features.get(user) is None
            await features.aclose()
    finally:
        await delete_prefix(url, prefix)
