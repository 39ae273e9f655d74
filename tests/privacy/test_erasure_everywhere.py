"""After an erasure the user's id is nowhere: not in any table of the database (every column
of every table, found through information_schema), not in any Redis key or value, not in
a recommendation's reasons. In both profiles, with the test's own database and its own
redis-server, which it pauses (SIGSTOP) during the erasure:

- in process: the three services on one in-process bus, erasure through the HTTP gateway;
- cluster: the services and the analytics processor as subprocesses on the Kafka mock
  cluster, with events of the user still in flight (processor and engine stopped) when the
  erasure runs.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
import urllib.request
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg
import grpc
import pytest
from aiohttp.test_utils import TestServer
from google.protobuf import json_format
from storyverse.admin.v1 import admin_service_pb2 as admin_pb
from storyverse.admin.v1 import admin_service_pb2_grpc as admin_grpc
from storyverse.analytics.v1 import analytics_service_pb2 as apb
from storyverse.analytics.v1 import analytics_service_pb2_grpc as apb_grpc
from storyverse.analytics.v1 import events_pb2 as apb_events
from storyverse.analytics.v1 import experiments_pb2 as xpb
from storyverse.analytics.v1 import experiments_pb2_grpc as xpb_grpc
from storyverse.feedback.v1 import feedback_service_pb2 as fpb
from storyverse.feedback.v1 import feedback_service_pb2_grpc as fpb_grpc
from storyverse.recommendation.v1 import recommendation_service_pb2 as rpb
from storyverse.recommendation.v1 import recommendation_service_pb2_grpc as rpb_grpc

from analytics_svc.churn.job import ChurnJob
from analytics_svc.eventstore.postgres import PostgresEventStore
from analytics_svc.rollups import rebuild as rollups
from analytics_svc.service import SPEC as ANALYTICS
from common.bus.inprocess import InProcessBus
from common.grpc_server import start
from feedback_svc.service import SPEC as FEEDBACK
from gateway.app import create_app
from reco_svc.service import SPEC as RECO
from tests.analytics.test_durability import wait_until_stored
from tests.churn.history import history as churn_history
from tests.cluster.fleet import Fleet, KafkaMockProcess
from tests.common.redis_fixtures import NO_REDIS_SERVER, RedisServer, keys_naming
from tests.conftest import free_ports, service_env, wait_serving
from tests.events import event
from tests.feedback.conftest import entry
from tests.feedback.conftest import eventually as _eventually
from tests.privacy.leaks import tables_naming, user_tables
from tests.reco.serving.helpers import recommend, story_event

# Tables that hold an id only while a job runs (cleared when it completes).
WHILE_ERASING = {"erasure_jobs"}


@pytest.fixture
def redis_server(tmp_path):
    if not RedisServer.available():
        pytest.skip(NO_REDIS_SERVER)
    with RedisServer(tmp_path) as server:
        yield server


async def test_in_process_erasure_leaves_nothing_even_with_redis_paused(
    settings, own_database, redis_server, http
):
    own = replace(settings, database_url=own_database, redis_url=redis_server.url, erasure_wait_seconds=1.0)
    bus = InProcessBus()
    await bus.start()
    services = [await start(spec, own, 0, bus) for spec in (ANALYTICS, RECO, FEEDBACK)]
    names = ("analytics", "reco", "feedback")
    targets = {name: f"127.0.0.1:{s.port}" for name, s in zip(names, services, strict=True)}
    gateway = TestServer(
        create_app(
            replace(
                own,
                analytics_target=targets["analytics"],
                reco_target=targets["reco"],
                feedback_target=targets["feedback"],
            )
        ),
        host="127.0.0.1",
    )
    await gateway.start_server()
    url = str(gateway.make_url("")).rstrip("/")
    pool = await asyncpg.create_pool(own_database, min_size=1, max_size=4)
    channels = {name: grpc.aio.insecure_channel(target) for name, target in targets.items()}
    child = f"kid-{uuid.uuid4().hex[:8]}"
    try:
        await seed(channels, pool, child, redis_server.url)

        redis_server.freeze()
        async with http.delete(f"{url}/api/admin/users/{child}") as resp:
            assert resp.status == 200, await resp.text()
            body = await resp.json()
        assert body["state"] == "erasing"  # Redis cannot confirm: the job is not done
        status = await poll_status(
            http, url, body["audit_id"], lambda s: _step(s, "reco_features")["attempts"]
        )
        features = _step(status, "reco_features")
        assert not features["done"] and "Timeout" in features["last_error"], features
        assert _step(status, "events")["done"] and _step(status, "catalog_items")["done"]
        # Data of the child from before the erasure, arriving now (an offline device): dropped.
        late = story_event(child, ["ocean-kingdom"], ["captain-coral"], timestamp=_ago(60))
        assert (await record(channels, [late])).accepted == 1
        # Answers while Redis is paused, and once it is back before the step ran again, say
        # nothing of what the child picked (the history is still in Redis meanwhile).
        assert not personal(await reasons(channels, child))
        redis_server.thaw()
        assert not personal(await reasons(channels, child))

        status = await poll_status(http, url, body["audit_id"], lambda s: s["state"] == "completed")
        assert status["state"] == "completed", status
        assert all(step["done"] for step in status["steps"])
        assert await tables_naming(pool, child) == {}
        assert await keys_naming(redis_server.url, child) == {}
        assert not personal(await reasons(channels, child))
    finally:
        redis_server.thaw()
        for channel in channels.values():
            await channel.close()
        await gateway.close()
        for service in services:
            await service.stop(grace=1)
        await bus.aclose()
        await pool.close()


async def test_cluster_erasure_drops_events_in_flight_and_waits_out_a_paused_redis(
    settings, own_database, redis_server, tmp_path
):
    prefix = f"er{int(time.time() * 1000)}."
    env = service_env(
        replace(settings, database_url=own_database),
        kafka_topic_prefix=prefix,
        kafka_partitions=2,
        redis_url=redis_server.url,
        erasure_poll_seconds=0.5,
        erasure_verify_seconds=2,
        erasure_wait_seconds=1,
    )
    kafka = KafkaMockProcess(env)
    env["SV_KAFKA_BOOTSTRAP"] = kafka.bootstrap
    fleet = Fleet(env, tmp_path)
    names = ("analytics", "reco", "feedback", "processor metrics", "engine metrics")
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    pool = await asyncpg.create_pool(own_database, min_size=1, max_size=4)
    channels: dict[str, grpc.aio.Channel] = {}
    child, friend = f"kid-{uuid.uuid4().hex[:8]}", f"kid-{uuid.uuid4().hex[:8]}"
    try:
        metrics = {"processor": ports.pop("processor metrics"), "engine": ports.pop("engine metrics")}
        fleet.spawn("analytics_svc", analytics_port=ports["analytics"])
        processor = fleet.spawn("analytics_svc.ingestion.processor", metrics_port=metrics["processor"])
        engine = fleet.spawn("reco_svc", reco_port=ports["reco"], metrics_port=metrics["engine"])
        fleet.spawn("feedback_svc", feedback_port=ports["feedback"])
        for port in ports.values():
            await asyncio.to_thread(wait_serving, f"127.0.0.1:{port}", "", 90)
        for process in fleet.processes:
            assert process.poll() is None, "a process of the fleet did not start (see its log)"
        channels = {name: grpc.aio.insecure_channel(f"127.0.0.1:{port}") for name, port in ports.items()}
        await seed(channels, pool, child, redis_server.url)

        # In flight: acknowledged by Kafka, not yet read by the processor nor the engine.
        for process in (processor, engine):
            os.kill(process.pid, signal.SIGSTOP)
        in_flight = [
            story_event(child, ["ocean-kingdom"], ["captain-coral"], "adventure"),
            event(user_id=child),
            story_event(friend, ["toy-story"], ["woody"], "friendship"),
        ]
        assert (await record(channels, in_flight)).accepted == 3
        redis_server.freeze()
        stub = admin_grpc.AdminServiceStub(channels["analytics"])
        reply = await stub.DeleteUserData(admin_pb.DeleteUserDataRequest(user_id=child), timeout=30)
        assert reply.state == "erasing"
        for process in (processor, engine):
            os.kill(process.pid, signal.SIGCONT)

        async def redis_failed():
            status = await stub.GetErasureStatus(admin_pb.GetErasureStatusRequest(audit_id=reply.audit_id))
            return next(s for s in status.steps if s.step == "reco_features").last_error and status

        status = await eventually(redis_failed, timeout=60)
        assert status.state == "erasing" and "Timeout" in next(
            s.last_error for s in status.steps if s.step == "reco_features"
        )
        assert not personal(await reasons(channels, child))
        redis_server.thaw()

        # The friend's in-flight story was stored: the processor did read the batch, and dropped
        # the child's two events; so did the engine (not only the job's verifying pass).
        assert await wait_until_stored(pool, [in_flight[2].event_id], timeout=60) == 1
        assert await eventually(lambda: dropped(metrics["processor"], "processor", 2), timeout=30)
        assert await eventually(lambda: dropped(metrics["engine"], "recommendation live", 1), timeout=30)

        async def completed():
            status = await stub.GetErasureStatus(admin_pb.GetErasureStatusRequest(audit_id=reply.audit_id))
            return status.state == "completed" and status

        status = await eventually(completed, timeout=90)
        assert all(s.done for s in status.steps)
        assert await tables_naming(pool, child) == {}
        assert await keys_naming(redis_server.url, child) == {}
        assert not personal(await reasons(channels, child))
        # ... while the friend's data is all there.
        assert await pool.fetchval("SELECT count(*) FROM catalog_items WHERE creator_id = $1", friend) == 1
    finally:
        redis_server.thaw()
        for channel in channels.values():
            await channel.close()
        fleet.stop()
        kafka.close()
        await pool.close()


async def seed(channels: dict[str, grpc.aio.Channel], pool: asyncpg.Pool, child: str, redis_url: str) -> None:
    """The child in every table that holds users and in Redis: events (stories of their own,
    one shared and completed, a rejected one), an experiment assignment, feedback,
    recommendations, goals, the rollups."""
    stories = [
        story_event(child, ["ocean-kingdom"], ["captain-coral"], "friendship", "teamwork"),
        story_event(child, ["ocean-kingdom", "toy-story"], ["captain-coral", "woody"], "adventure"),
    ]
    # Between families: the child shares its first story and reads it to the end.
    shared = []
    for event_type in ("story_completed", "story_shared"):
        follow = apb_events.Event()
        follow.CopyFrom(stories[0])
        follow.event_id, follow.event_type = f"evt-{uuid.uuid4().hex}", event_type
        shared.append(follow)
    rejected = event(user_id=child)
    rejected.properties.extras.update({"email": "parent@example.com"})
    result = await record(channels, [*stories, *shared, event(user_id=child), rejected])
    assert (result.accepted, result.rejected) == (5, 1)
    reco = rpb_grpc.RecommendationServiceStub(channels["reco"])
    await reco.SetGoals(rpb.SetGoalsRequest(user_id=child, goals=["patience"]))
    assert await wait_until_stored(pool, [e.event_id for e in stories], timeout=60) == 2

    experiments = xpb_grpc.ExperimentServiceStub(channels["analytics"])
    key = f"erasure-{uuid.uuid4().hex[:8]}"
    experiment = json_format.ParseDict(
        {
            "key": key,
            "description": "erasure",
            "variants": [{"key": "control", "weight": 50}, {"key": "treatment", "weight": 50}],
            "primary_metric": {"name": "completed", "kind": "conversion", "event": "story_completed"},
        },
        xpb.Experiment(),
    )
    await experiments.CreateExperiment(xpb.CreateExperimentRequest(experiment=experiment))
    await experiments.StartExperiment(xpb.StartExperimentRequest(key=key))
    assert (await experiments.GetAssignments(xpb.GetAssignmentsRequest(user_id=child))).assignments

    feedback = fpb_grpc.FeedbackServiceStub(channels["feedback"])
    await feedback.SubmitFeedback(fpb.SubmitFeedbackRequest(feedback=entry(user_id=child)))

    # Predicted retention: the child seen three days ago among a few dozen children with weeks
    # of history, and a training run (the job the analytics service runs on its schedule).
    past, _ = churn_history(datetime.now(UTC).date(), users=40, seed=11)
    before = event(user_id=child, timestamp=_ago(3 * 86400))
    history = [json_format.ParseDict(e, apb_events.Event()) for e in past] + [before]
    for i in range(0, len(history), 1000):
        assert (await record(channels, history[i : i + 1000])).rejected == 0
    assert await wait_until_stored(pool, [e.event_id for e in history], timeout=120) == len(history)
    job = ChurnJob(pool, PostgresEventStore(pool), None, timedelta(days=1))
    assert await job.run_once(force=True) is not None
    assert await pool.fetchval("SELECT count(*) FROM churn_predictions WHERE user_id = $1", child) == 1

    async def everywhere():
        return (
            personal(await reasons(channels, child))  # the engine has the child's picks, not only a list
            and await redis_has_both(redis_url, child)
            and await with_realtime(pool, child)
            and await pool.fetchval("SELECT count(*) FROM reco_story_shares WHERE user_id = $1", child)
            and await pool.fetchval("SELECT count(*) FROM reco_family_loves WHERE user_id = $1", child)
        )

    assert await eventually(everywhere, timeout=60), "the child's data did not reach every store"
    assert personal(await reasons(channels, child)), "no recommendation explained by the child's picks"
    today = datetime.now(UTC).date()
    await rollups.run(pool, today, today)
    found = await tables_naming(pool, child)
    assert (await user_tables(pool)) - WHILE_ERASING <= set(found), found


async def record(channels, events) -> apb.IngestResult:
    stub = apb_grpc.AnalyticsServiceStub(channels["analytics"])
    return (await stub.RecordEvents(apb.RecordEventsRequest(events=events))).result


async def reasons(channels, user_id: str) -> list[str]:
    stub = rpb_grpc.RecommendationServiceStub(channels["reco"])
    lists = await recommend(stub, user_id, "6-8", ("universe", "character", "story"), limit=10)
    return [item.reason for rec_list in lists for item in rec_list.items]


def personal(found: list[str]) -> list[str]:
    """Reasons that come from what the child did (reco_svc/reasons.py)."""
    return [r for r in found if r.startswith("because you") or r.startswith("children who picked")]


async def redis_has_both(url: str, user_id: str) -> bool:
    keys = await keys_naming(url, user_id)
    return {f"sv:f:recent:reco:{user_id}", f"sv:f:cache:reco:history:{user_id}"} <= set(keys)


async def with_realtime(pool, user_id: str) -> bool:
    return bool(await pool.fetchval("SELECT count(*) FROM realtime_minute_users WHERE user_id = $1", user_id))


async def poll_status(http, url: str, audit_id: str, check, timeout: float = 60.0) -> dict:
    async def status():
        async with http.get(f"{url}/api/admin/erasures/{audit_id}") as resp:
            assert resp.status == 200, await resp.text()
            body = await resp.json()
        return check(body) and body

    return await eventually(status, timeout)


async def dropped(port: int, where: str, at_least: int) -> bool:
    """The process's storyverse_erasure_dropped_total{where} reached `at_least`."""

    def scrape() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            return reply.read().decode()

    pattern = rf'^storyverse_erasure_dropped_total\{{[^}}]*where="{where}"[^}}]*\}} (\S+)$'
    return sum(float(v) for v in re.findall(pattern, await asyncio.to_thread(scrape), re.M)) >= at_least


async def eventually(check, timeout: float):
    return await _eventually(check, timeout, interval=0.2)


def _step(status: dict, name: str) -> dict:
    return next(s for s in status["steps"] if s["step"] == name)


def _ago(seconds: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
