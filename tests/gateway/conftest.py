"""Gateway tests: generated stubs and the repository root on sys.path, and the shared servers.

The end-to-end fixtures run a real grpc.aio server on loopback and the real gateway app on
loopback; tests talk to it over HTTP with aiohttp's client.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# gen/ for the stubs, the root for common/ and gateway/, this folder for gateway_doubles.
for entry in (ROOT / "gen", ROOT, Path(__file__).resolve().parent):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

import aiohttp  # noqa: E402
import grpc  # noqa: E402
import pytest  # noqa: E402
from gateway_doubles import (  # noqa: E402
    AnalyticsTransportDouble,
    FeedbackWatchDouble,
    gateway_settings,
    start_gateway,
)
from grpc_health.v1 import health, health_pb2, health_pb2_grpc  # noqa: E402
from storyverse.analytics.v1 import analytics_service_pb2_grpc  # noqa: E402
from storyverse.feedback.v1 import feedback_service_pb2_grpc  # noqa: E402
from storyverse.recommendation.v1 import recommendation_service_pb2_grpc  # noqa: E402


@pytest.fixture(scope="session")
def analytics_double() -> AnalyticsTransportDouble:
    return AnalyticsTransportDouble()


@pytest.fixture(scope="session")
def feedback_double() -> FeedbackWatchDouble:
    return FeedbackWatchDouble()


@pytest.fixture(scope="session")
async def grpc_target(analytics_double, feedback_double):
    """One loopback gRPC server hosting all three services and the health service."""
    server = grpc.aio.server()
    analytics_service_pb2_grpc.add_AnalyticsServiceServicer_to_server(analytics_double, server)
    # The generated base class: every method answers UNIMPLEMENTED.
    recommendation_service_pb2_grpc.add_RecommendationServiceServicer_to_server(
        recommendation_service_pb2_grpc.RecommendationServiceServicer(), server
    )
    feedback_service_pb2_grpc.add_FeedbackServiceServicer_to_server(feedback_double, server)
    health_servicer = health.aio.HealthServicer()
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop(grace=None)


@pytest.fixture(scope="session")
async def gateway_url(grpc_target):
    server = await start_gateway(gateway_settings(grpc_target))
    yield str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture(scope="session")
async def http():
    async with aiohttp.ClientSession() as session:
        yield session
