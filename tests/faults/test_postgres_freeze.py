"""PostgreSQL hangs: every accepted call answers UNAVAILABLE (HTTP 503) within a couple of
seconds instead of waiting out the freeze, and the system works again once it thaws.

The freeze is SIGSTOP on the postmaster and every backend of this test's own embedded
PostgreSQL (data in .data/freeze-pg), never the machine's shared server: connections stay
open and nothing answers, as with a hung host or a stalled network.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
import uuid
from dataclasses import replace

import aiohttp
import asyncpg
import grpc
import psutil
import pytest
from aiohttp.test_utils import TestServer
from storyverse.analytics.v1 import analytics_service_pb2 as apb
from storyverse.analytics.v1 import analytics_service_pb2_grpc as apb_grpc
from storyverse.feedback.v1 import feedback_service_pb2 as fpb
from storyverse.feedback.v1 import feedback_service_pb2_grpc as fpb_grpc
from storyverse.recommendation.v1 import recommendation_service_pb2 as rpb
from storyverse.recommendation.v1 import recommendation_service_pb2_grpc as rpb_grpc

from analytics_svc.queries.params import fetch_analytical
from common import database
from common.bus.inprocess import InProcessBus
from common.grpc_server import start
from common.settings import REPO_ROOT, Settings
from tests.events import event, event_dict
from tests.feedback.conftest import entry

# Statement and acquire timeouts are 2 s; the rest is slack for a loaded CI machine.
FAIL_FAST_SECONDS = 4.0


@pytest.fixture(scope="module")
def freezable_postgres():
    data_dir = REPO_ROOT / ".data" / "freeze-pg"
    url = database.start_embedded(data_dir)
    server = database._embedded[(data_dir / "pgdata").resolve()]
    frozen: list[psutil.Process] = []

    def freeze() -> None:
        postmaster = psutil.Process(server.get_pid())
        frozen[:] = [postmaster, *postmaster.children(recursive=True)]
        for process in frozen:
            process.send_signal(signal.SIGSTOP)

    def thaw() -> None:
        for process in frozen:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGCONT)
        frozen.clear()

    try:
        yield url, freeze, thaw
    finally:
        thaw()


async def timed(call) -> tuple[float, object]:
    began = time.monotonic()
    try:
        outcome = await call
    except Exception as exc:  # noqa: BLE001 - the outcome is what is checked
        outcome = exc
    return time.monotonic() - began, outcome


def code(outcome: object) -> object:
    if isinstance(outcome, grpc.aio.AioRpcError):
        return outcome.code()
    return outcome


async def test_a_frozen_postgresql_gets_503_within_seconds_and_the_system_recovers(
    settings, freezable_postgres
):
    url, freeze, thaw = freezable_postgres
    defaults = Settings()  # the product's fail-fast timeouts, not the test fixture's looser ones
    service_settings = replace(
        settings,
        database_url=url,
        db_pool_min=1,
        db_acquire_timeout_seconds=defaults.db_acquire_timeout_seconds,
        db_statement_timeout_seconds=defaults.db_statement_timeout_seconds,
    )
    bus = InProcessBus()
    await bus.start()
    from analytics_svc.service import SPEC as ANALYTICS
    from feedback_svc.service import SPEC as FEEDBACK
    from reco_svc.service import SPEC as RECO

    services = [await start(spec, service_settings, 0, bus) for spec in (ANALYTICS, RECO, FEEDBACK)]
    analytics, reco, feedback = services
    from gateway.app import create_app

    gateway = TestServer(
        create_app(
            replace(
                service_settings,
                analytics_target=f"127.0.0.1:{analytics.port}",
                reco_target=f"127.0.0.1:{reco.port}",
                feedback_target=f"127.0.0.1:{feedback.port}",
            )
        ),
        host="127.0.0.1",
    )
    await gateway.start_server()
    base = str(gateway.make_url("")).rstrip("/")
    pool = await database.create_pool(service_settings, url)
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{s.port}") for s in services]
    a, r, f = (
        apb_grpc.AnalyticsServiceStub(channels[0]),
        rpb_grpc.RecommendationServiceStub(channels[1]),
        fpb_grpc.FeedbackServiceStub(channels[2]),
    )
    recommend = rpb.RecommendRequest(
        context=rpb.RecommendationContext(age_group="6-8"), recommendation_types=["universe"]
    )
    try:
        async with aiohttp.ClientSession() as http:
            assert (
                await a.RecordEvent(apb.RecordEventRequest(event=event()), timeout=10)
            ).result.accepted == 1
            long_report = asyncio.create_task(timed(fetch_analytical(pool, "SELECT pg_sleep(30)")))
            await asyncio.sleep(0.5)  # the long statement is running when the server freezes

            freeze()
            calls = {
                "RecordEvent": a.RecordEvent(apb.RecordEventRequest(event=event()), timeout=30),
                "GetDashboard": a.GetDashboard(apb.GetDashboardRequest(), timeout=30),
                "Recommend (new user)": r.Recommend(
                    rpb.RecommendRequest(**{**_fields(recommend), "user_id": f"u-{uuid.uuid4().hex[:8]}"}),
                    timeout=30,
                ),
                "SubmitFeedback": f.SubmitFeedback(fpb.SubmitFeedbackRequest(feedback=entry()), timeout=30),
                "GetFeedbackSummary": f.GetFeedbackSummary(fpb.GetFeedbackSummaryRequest(), timeout=30),
            }
            results = dict(zip(calls, await asyncio.gather(*(timed(c) for c in calls.values())), strict=True))
            for name, (seconds, outcome) in results.items():
                assert code(outcome) == grpc.StatusCode.UNAVAILABLE, (name, outcome)
                assert seconds < FAIL_FAST_SECONDS, (name, seconds)

            async def post_event() -> int:
                async with http.post(f"{base}/api/analytics/events", json=event_dict()) as response:
                    return response.status

            seconds, status = await timed(post_event())
            assert (status, seconds < FAIL_FAST_SECONDS) == (503, True), (status, seconds)

            seconds, outcome = await long_report
            # The timeout, or the closed connection's transaction refusing to roll back: both
            # are UNAVAILABLE to a caller (common/interceptors.py).
            assert isinstance(outcome, TimeoutError | asyncpg.InterfaceError), outcome
            # It started 0.5 s before the freeze and may run for 20 s: it ended on the ping instead.
            assert seconds < FAIL_FAST_SECONDS + 0.5, ("the long statement waited out the freeze", seconds)

            thaw()
            deadline = time.monotonic() + 20
            while True:
                try:
                    reply = await a.RecordEvent(apb.RecordEventRequest(event=event()), timeout=5)
                    if reply.result.accepted == 1:
                        break
                except grpc.aio.AioRpcError as exc:
                    assert exc.code() == grpc.StatusCode.UNAVAILABLE
                assert time.monotonic() < deadline, "the service did not recover by itself"
                await asyncio.sleep(0.3)
            assert (await f.SubmitFeedback(fpb.SubmitFeedbackRequest(feedback=entry()), timeout=10)).created
            assert (await fetch_analytical(pool, "SELECT 1 AS one"))[0]["one"] == 1
    finally:
        thaw()
        for channel in channels:
            await channel.close()
        await pool.close()
        await gateway.close()
        for service in services:
            await service.stop(grace=1)
        await bus.aclose()


def _fields(message) -> dict:
    return {field.name: value for field, value in message.ListFields()}
