"""Helpers for the serving tests: catalog items, events, requests, waiting for live updates."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from storyverse.analytics.v1 import analytics_service_pb2 as apb
from storyverse.analytics.v1 import events_pb2
from storyverse.recommendation.v1 import recommendation_service_pb2 as pb

from reco_svc.age_rules import allowed


def token() -> str:
    """A per-test prefix so that tests sharing the database do not see each other's items."""
    return "t" + uuid.uuid4().hex[:6]


async def upsert(
    stub, kind: str, item_id: str, min_age: int = 3, max_age: int = 17, **fields
) -> pb.CatalogItem:
    fields.setdefault("name", item_id.replace("-", " ").title())
    reply = await stub.UpsertCatalogItem(
        pb.UpsertCatalogItemRequest(kind=kind, id=item_id, min_age=min_age, max_age=max_age, **fields)
    )
    return reply.item


def story_event(user_id: str, universes=(), characters=(), theme="", moral_lesson="", age_group="6-8", **kw):
    props = events_pb2.EventProperties(
        story_id=kw.pop("story_id", f"story-{uuid.uuid4().hex[:10]}"),
        universes=list(universes),
        characters=list(characters),
        theme=theme,
        moral_lesson=moral_lesson,
        age_group=age_group,
        device_type=kw.pop("device_type", "tablet"),
    )
    return events_pb2.Event(
        event_id=f"evt-{uuid.uuid4().hex}",
        user_id=user_id,
        timestamp=kw.pop("timestamp", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
        event_type="story_creation",
        properties=props,
    )


async def record(analytics_stub, events: list[events_pb2.Event]) -> None:
    for start in range(0, len(events), 500):
        reply = await analytics_stub.RecordEvents(apb.RecordEventsRequest(events=events[start : start + 500]))
        assert not reply.result.rejected, reply.result.rejected


async def kept(db, ids: list[str], timeout: float = 10.0) -> None:
    """Wait until the engine keeps these events or ratings (by id) in its own table: they travel
    analytics (or feedback) -> bus -> reco_interactions, which training reads."""

    async def all_there():
        n = await db.fetchval("SELECT count(*) FROM reco_interactions WHERE event_id = ANY($1::text[])", ids)
        return n == len(set(ids))

    assert await eventually(all_there, timeout=timeout), "the engine did not keep the interactions"


async def recommend(stub, user_id: str, age_group: str, types=("character",), limit=5, **context):
    reply = await stub.Recommend(
        pb.RecommendRequest(
            user_id=user_id,
            context=pb.RecommendationContext(age_group=age_group, **context),
            recommendation_types=list(types),
            limit=limit,
        )
    )
    return reply.lists


async def eventually(check, timeout: float = 5.0, interval: float = 0.05):
    """Retry an async check until it returns a truthy value (live updates travel through the bus)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(interval)


def assert_age_safe(items, age_group: str) -> None:
    for item in items:
        assert allowed(item.min_age, item.max_age, age_group), (
            item.id,
            item.min_age,
            item.max_age,
            age_group,
        )


def served(stub, version: str):
    """A check for `eventually`: the service answers with this model version."""

    async def check():
        lists = await recommend(stub, f"user-{uuid.uuid4().hex[:6]}", "6-8", ["universe"])
        return lists[0].model_version == version

    return check
