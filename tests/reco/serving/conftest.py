"""Fixtures of the serving tests: the real services (and the gateway) on loopback, on a
database and bus of this package's own.

These tests train the engine (reco_svc.offline.training_job.train), which reads every
interaction and catalog item of its database: on the session's database that is whatever
the whole suite recorded before (20-40 s a training late in a full run); here, only what
these tests add."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import grpc
import pytest
from storyverse.analytics.v1 import analytics_service_pb2_grpc as apb_grpc
from storyverse.recommendation.v1 import recommendation_service_pb2_grpc as pb_grpc

from common.bus.inprocess import InProcessBus
from common.grpc_server import RunningService
from common.settings import Settings
from tests.conftest import (
    database_of_its_own,
    in_front_of,
    running_analytics,
    running_feedback,
    running_gateway,
    running_reco,
    settings_for_tests,
    started_bus,
)


@pytest.fixture(scope="package")
async def settings(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Settings]:
    async with database_of_its_own(pg_admin_url, "serving") as url:
        yield settings_for_tests(url, tmp_path_factory.mktemp("serving"))


@pytest.fixture(scope="package")
async def db(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture(scope="package")
async def bus() -> AsyncIterator[InProcessBus]:
    async with started_bus() as bus:
        yield bus


@pytest.fixture(scope="package")
async def analytics(settings: Settings, bus: InProcessBus) -> AsyncIterator[RunningService]:
    async with running_analytics(settings, bus) as service:
        yield service


@pytest.fixture(scope="package")
async def reco(
    settings: Settings, bus: InProcessBus, analytics: RunningService
) -> AsyncIterator[RunningService]:
    async with running_reco(settings, bus, analytics) as service:
        yield service


@pytest.fixture(scope="package")
async def feedback(settings: Settings, bus: InProcessBus) -> AsyncIterator[RunningService]:
    async with running_feedback(settings, bus) as service:
        yield service


@pytest.fixture(scope="package")
def gateway_settings(settings: Settings, analytics, reco, feedback) -> Settings:
    return in_front_of(settings, analytics, reco, feedback)


@pytest.fixture(scope="package")
async def gateway_url(gateway_settings: Settings) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings) as url:
        yield url


@pytest.fixture
async def reco_live(reco, bus):
    """The package's reco service; its bus subscriptions deliver (the bus is started first,
    and InProcessBus.subscribe starts delivery for groups that join a started bus)."""
    assert bus._started
    return reco


@pytest.fixture
async def reco_stub(reco_live):
    reco = reco_live
    async with grpc.aio.insecure_channel(f"127.0.0.1:{reco.port}") as channel:
        yield pb_grpc.RecommendationServiceStub(channel)


@pytest.fixture
async def analytics_stub(analytics_channel):
    return apb_grpc.AnalyticsServiceStub(analytics_channel)
