"""Fixtures of the serving tests: the real services (and the gateway) on loopback, on a
database and bus of this package's own.

These tests train the engine (reco_svc.offline.training_job.train), which reads every
interaction and catalog item of its database: on the session's database that is whatever
the whole suite recorded before (20-40 s a training late in a full run); here, only what
these tests add."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from storyverse.analytics.v1 import analytics_service_pb2_grpc as apb_grpc
from storyverse.recommendation.v1 import recommendation_service_pb2_grpc as pb_grpc

from common.settings import Settings
from tests.conftest import database_of_its_own, settings_for_tests, system_fixtures


@pytest.fixture(scope="package")
async def settings(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Settings]:
    async with database_of_its_own(pg_admin_url, "serving") as url:
        yield settings_for_tests(url, tmp_path_factory.mktemp("serving"))


db, bus, analytics, reco, feedback, gateway_settings, gateway_url = system_fixtures("package")


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
