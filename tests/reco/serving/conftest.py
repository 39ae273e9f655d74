"""Fixtures of the serving tests: the real reco and analytics services on loopback."""

from __future__ import annotations

import grpc
import pytest
from storyverse.analytics.v1 import analytics_service_pb2_grpc as apb_grpc
from storyverse.recommendation.v1 import recommendation_service_pb2_grpc as pb_grpc


@pytest.fixture
async def reco_live(reco, bus):
    """The session's reco service; its bus subscriptions deliver (the session bus is started
    first, and InProcessBus.subscribe starts delivery for groups that join a started bus)."""
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
