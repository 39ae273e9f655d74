"""Feedback ratings as interactions: live through the bus, in training, and in lazy loading.

The real feedback service takes the ratings over gRPC; the engine's live follower hears its
"feedback.submitted" messages on the session bus and reads each row from PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
from storyverse.feedback.v1 import feedback_service_pb2_grpc as fpb_grpc

from reco_svc import store
from reco_svc.catalog_state import CatalogState
from reco_svc.features.memory import MemoryFeatureStore
from reco_svc.features.shared import SharedFeatures, limits
from reco_svc.interactions import EventFacts, interactions_of
from reco_svc.live import LiveFollower
from reco_svc.offline.training_job import read_training_data
from tests.feedback.conftest import eventually, submit

NOW = datetime(2025, 3, 20, 12, tzinfo=UTC)


def test_good_ratings_weigh_by_stars_and_poor_ones_add_nothing():
    def weights(rating: int) -> list[tuple[str, float]]:
        facts = EventFacts("fb-1", "u1", "story_rated", NOW, "s1", rating=rating)
        return [(i.key, i.weight) for i in interactions_of(facts)]

    assert weights(5) == [("story:s1", 3.0)]
    assert weights(4) == [("story:s1", 2.0)]
    assert weights(3) == [("story:s1", 0.5)]
    assert weights(2) == weights(1) == []


async def test_ratings_reach_features_live_then_training_and_lazy_loading(analytics, reco, feedback, bus, db):
    child = f"user-{uuid.uuid4().hex[:8]}"
    loved, fine, disliked = (f"story-{uuid.uuid4().hex[:8]}" for _ in range(3))
    expected = {f"story:{loved}": 3.0, f"story:{fine}": 0.5}
    follower = LiveFollower(db, SharedFeatures(MemoryFeatureStore(limits())), CatalogState(db))
    follower.subscribe(bus)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{feedback.port}") as channel:
            stub = fpb_grpc.FeedbackServiceStub(channel)
            await submit(stub, user_id=child, story_id=loved, rating=5)
            await submit(stub, user_id=child, story_id=fine, rating=3, comment="It was fine.")
            await submit(stub, user_id=child, story_id=disliked, rating=1, comment="Too long for her.")

        async def rated():
            features = await follower.features.get(child)
            if features is None:
                return None
            found = {i.key: i.weight for found in features.events.values() for i in found}
            return found if len(found) >= len(expected) else None

        assert await eventually(rated, timeout=10) == expected
    finally:
        follower.close()

    _, interactions, age_groups, _, _ = await read_training_data(db)
    assert {i.key: i.weight for i in interactions if i.user_id == child} == expected
    assert age_groups[child] == "6-8"  # the child_age of the feedback entries

    rows = await store.user_events(db, child, datetime.now(UTC) - timedelta(days=1), limit=10)
    assert {row["story_id"] for row in rows} == {loved, fine}
