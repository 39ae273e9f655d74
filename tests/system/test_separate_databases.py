"""The three services on three PostgreSQL databases, as three Deployments with databases of their
own: every flow between them goes over the bus (here in process, standing for Kafka).

- events → recommendations: a child's picks reach the engine's own interaction table and
  explain its recommendations;
- feedback → hide → recommendations: a frightening story reported in feedback is hidden in the
  engine's catalog (its own hidden_items) and recommended to no one; a good rating reaches the
  engine's interactions from the message alone;
- erasure everywhere: DeleteUserData on the analytics service reaches the engine's and the
  feedback service's databases (each adopts the job), and the child's id is in no table of any
  of the three.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

import asyncpg
import grpc
from storyverse.admin.v1 import admin_service_pb2 as admin_pb
from storyverse.admin.v1 import admin_service_pb2_grpc as admin_grpc
from storyverse.feedback.v1 import feedback_service_pb2 as fpb
from storyverse.feedback.v1 import feedback_service_pb2_grpc as fpb_grpc
from storyverse.recommendation.v1 import recommendation_service_pb2 as rpb
from storyverse.recommendation.v1 import recommendation_service_pb2_grpc as rpb_grpc

from analytics_svc.service import SPEC as ANALYTICS
from common.bus.inprocess import InProcessBus
from common.grpc_server import start
from feedback_svc.service import SPEC as FEEDBACK
from reco_svc.service import SPEC as RECO
from tests.feedback.conftest import entry
from tests.privacy.leaks import tables_naming
from tests.privacy.test_erasure_everywhere import eventually, personal, reasons, record
from tests.reco.serving.helpers import recommend, story_event

FRIGHTENED = "My daughter was really frightened by the monster, she had nightmares."
# What each database must not hold: the other services' tables.
FOREIGN = {
    "analytics": {"feedback", "story_meta", "alerts", "catalog_items", "hidden_items", "reco_interactions"},
    "reco": {"events", "failed_events", "feedback", "story_meta", "alerts"},
    "feedback": {"events", "catalog_items", "hidden_items", "reco_interactions"},
}
OWN = {
    "analytics": {"events"},
    "reco": {"catalog_items", "hidden_items", "reco_interactions"},
    "feedback": {"feedback", "story_meta", "moderation_queue"},
}


async def test_three_services_on_three_databases(settings, service_databases):
    bus = InProcessBus()
    await bus.start()
    services, pools, channels = {}, {}, {}
    try:
        for name, spec in (("analytics", ANALYTICS), ("reco", RECO), ("feedback", FEEDBACK)):
            own = replace(settings, database_url=service_databases[name], erasure_wait_seconds=1.0)
            services[name] = await start(spec, own, 0, bus)
            pools[name] = await asyncpg.create_pool(service_databases[name], min_size=1, max_size=3)
            channels[name] = grpc.aio.insecure_channel(f"127.0.0.1:{services[name].port}")
        for name, pool in pools.items():
            tables = await _tables(pool)
            assert OWN[name] <= tables and not FOREIGN[name] & tables, (name, sorted(tables))

        child, friend = f"kid-{uuid.uuid4().hex[:8]}", f"friend-{uuid.uuid4().hex[:8]}"
        await _events_reach_recommendations(channels, pools, child, friend)
        await _feedback_hides_a_story_and_ratings_reach_the_engine(channels, pools, child, friend)
        await _erasure_reaches_every_database(channels, pools, child)
    finally:
        for channel in channels.values():
            await channel.close()
        for pool in pools.values():
            await pool.close()
        for service in services.values():
            await service.stop(grace=1)
        await bus.aclose()


async def _events_reach_recommendations(channels, pools, child: str, friend: str) -> None:
    await record(
        channels,
        [
            story_event(friend, ["ocean-kingdom", "toy-story"], ["captain-coral", "woody"], "adventure"),
            story_event(friend, ["ocean-kingdom"], ["captain-coral", "nemo"], "friendship"),
            story_event(child, ["ocean-kingdom"], ["captain-coral"], "friendship", "teamwork"),
        ],
    )

    async def explained_by_the_childs_picks():
        return personal(await reasons(channels, child))

    assert await eventually(explained_by_the_childs_picks, timeout=60)
    # The engine keeps the interactions it learns from in its own database.
    assert await pools["reco"].fetchval("SELECT count(*) FROM reco_interactions WHERE user_id = $1", child)


async def _feedback_hides_a_story_and_ratings_reach_the_engine(channels, pools, child, friend) -> None:
    catalog = rpb_grpc.RecommendationServiceStub(channels["reco"])
    feedback = fpb_grpc.FeedbackServiceStub(channels["feedback"])
    scary, liked = (f"story-{uuid.uuid4().hex[:10]}" for _ in range(2))
    await record(
        channels,
        [
            story_event(friend, ["monster-island", "toy-story"], ["grumble"], "courage", story_id=scary),
            story_event(friend, ["ocean-kingdom"], ["nemo"], "friendship", story_id=liked),
        ],
    )

    async def in_both(story_id: str):
        meta = await pools["feedback"].fetchrow("SELECT * FROM story_meta WHERE story_id = $1", story_id)
        try:
            item = await catalog.GetCatalogItem(rpb.GetCatalogItemRequest(kind="story", id=story_id))
        except grpc.aio.AioRpcError:
            return None
        return meta and item

    assert await eventually(lambda: in_both(scary), timeout=30)
    meta = await pools["feedback"].fetchrow("SELECT * FROM story_meta WHERE story_id = $1", scary)
    assert (meta["combination"], meta["creator_id"]) == ("monster-island+toy-story", friend)

    await feedback.SubmitFeedback(
        fpb.SubmitFeedbackRequest(feedback=entry(user_id=child, story_id=scary, rating=1, comment=FRIGHTENED))
    )

    async def hidden_in_the_engine():
        item = await catalog.GetCatalogItem(rpb.GetCatalogItemRequest(kind="story", id=scary))
        stored = await pools["reco"].fetchval(
            "SELECT count(*) FROM hidden_items WHERE item_id = $1 AND cleared_at IS NULL", scary
        )
        return item.item.hidden and stored == 1

    assert await eventually(hidden_in_the_engine, timeout=30)
    listed = await catalog.ListCatalogItems(rpb.ListCatalogItemsRequest(kind="story", page_size=1000))
    assert scary not in [i.id for i in listed.items]
    for user in (child, friend):
        lists = await recommend(catalog, user, "6-8", ("story",), limit=50)
        assert scary not in [item.id for rec_list in lists for item in rec_list.items]

    good = entry(user_id=child, story_id=liked, rating=5, comment="We loved it, read it twice!")
    await feedback.SubmitFeedback(fpb.SubmitFeedbackRequest(feedback=good))

    async def rating_in_the_engine():
        return await pools["reco"].fetchval(
            "SELECT rating FROM reco_interactions WHERE event_id = $1", good.feedback_id
        )

    assert await eventually(rating_in_the_engine, timeout=30) == 5


async def _erasure_reaches_every_database(channels, pools, child: str) -> None:
    for name, pool in pools.items():
        assert await tables_naming(pool, child), f"nothing of the child in {name}'s database to erase"
    admin = admin_grpc.AdminServiceStub(channels["analytics"])
    reply = await admin.DeleteUserData(admin_pb.DeleteUserDataRequest(user_id=child), timeout=30)

    async def gone_everywhere():
        found = {name: await tables_naming(pool, child) for name, pool in pools.items()}
        return not any(found.values())

    assert await eventually(gone_everywhere, timeout=60), {
        name: await tables_naming(pool, child) for name, pool in pools.items()
    }
    # Each database ran its own copy of the job to the end.
    for pool in pools.values():
        assert await pool.fetchval("SELECT count(*) FROM erasure_jobs WHERE state <> 'completed'") == 0
    # And the requester's status covers all three: the others reported on the bus (peers.py).
    request = admin_pb.GetErasureStatusRequest(audit_id=reply.audit_id)

    async def completed_everywhere():
        status = await admin.GetErasureStatus(request, timeout=10)
        services = {s.service for s in status.steps}
        return (
            status.state == "completed" and services == {"analytics", "recommendation", "feedback"} and status
        )

    try:
        status = await eventually(completed_everywhere, timeout=30)
    except AssertionError:
        raise AssertionError(await admin.GetErasureStatus(request, timeout=10)) from None
    assert all(step.done for step in status.steps), status
    steps = {step.step: step for step in status.steps}
    assert (
        steps["reco_interactions"].service == "recommendation" and steps["reco_interactions"].removed > 0
    ), status
    assert any(step.service == "feedback" and step.removed > 0 for step in status.steps), status
    assert not personal(await reasons(channels, child))


async def _tables(pool: asyncpg.Pool) -> set[str]:
    rows = await pool.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    )
    return {r["table_name"] for r in rows}
