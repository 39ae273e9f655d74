"""Gateway tests: generated stubs and the repository root on sys.path, and the shared servers.

The end-to-end fixtures run a real grpc.aio server on loopback and the real gateway app on
loopback; tests talk to it over HTTP with aiohttp's client.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for entry in (ROOT / "gen", ROOT):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

import aiohttp  # noqa: E402
import grpc  # noqa: E402
import pytest  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402
from google.api import httpbody_pb2  # noqa: E402
from grpc_health.v1 import health, health_pb2, health_pb2_grpc  # noqa: E402
from storyverse.analytics.v1 import analytics_service_pb2 as analytics  # noqa: E402
from storyverse.analytics.v1 import analytics_service_pb2_grpc  # noqa: E402
from storyverse.feedback.v1 import feedback_service_pb2 as feedback  # noqa: E402
from storyverse.feedback.v1 import feedback_service_pb2_grpc  # noqa: E402
from storyverse.recommendation.v1 import recommendation_service_pb2_grpc  # noqa: E402

from common.errors import STATUS_DETAILS_KEY, FieldViolation, status_details  # noqa: E402
from common.settings import Settings  # noqa: E402
from gateway.app import create_app  # noqa: E402

MAX_REQUEST_BYTES = 64 * 1024
INVALID_EVENT_ID = "evt-invalid"
THROTTLED_EVENT_ID = "evt-throttled"
SLOW_REALTIME_MINUTES = 1440
CSV = b"date,story_creations\n2025-03-20,3\n"


class AnalyticsTransportDouble(analytics_service_pb2_grpc.AnalyticsServiceServicer):
    """Test double of the *transport* only, until the real analytics service lands: it records
    what reached it and answers canned replies. It has no analytics logic on purpose."""

    def __init__(self) -> None:
        self.received: list = []
        self.metadata: list[dict[str, str]] = []

    def _record(self, request, context) -> None:
        self.received.append(request)
        self.metadata.append(dict(context.invocation_metadata()))

    async def RecordEvent(self, request, context):
        self._record(request, context)
        if request.event.event_id == INVALID_EVENT_ID:
            violation = FieldViolation("event.properties.device_type", "must be one of tablet, phone, ...")
            code = grpc.StatusCode.INVALID_ARGUMENT
            await context.abort(
                code,
                "invalid request: event.properties.device_type",
                trailing_metadata=((STATUS_DETAILS_KEY, status_details(code, "invalid", [violation])),),
            )
        if request.event.event_id == THROTTLED_EVENT_ID:
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down", trailing_metadata=(("retry-after", "6.5"),)
            )
        return analytics.RecordEventResponse(result=analytics.IngestResult(accepted=1))

    async def GetDashboard(self, request, context):
        self._record(request, context)
        if request.realtime_minutes == SLOW_REALTIME_MINUTES:
            await asyncio.sleep(2)
        return analytics.GetDashboardResponse(start_date=request.start_date)

    async def GetReport(self, request, context):
        self._record(request, context)
        table = analytics.ReportTable(name="funnel", columns=list(request.steps))
        return analytics.GetReportResponse(report_type=request.report_type, tables=[table])

    async def ExportReport(self, request, context):
        self._record(request, context)
        return analytics.ExportReportResponse(body=httpbody_pb2.HttpBody(content_type="text/csv", data=CSV))


class FeedbackWatchDouble(feedback_service_pb2_grpc.FeedbackServiceServicer):
    """The generated FeedbackService base (UNIMPLEMENTED everywhere) plus a transport-only WatchAlerts:
    one alert per requested kind; with "rating_drop" it then stays open until cancelled."""

    def __init__(self) -> None:
        self.cancelled = asyncio.Event()

    async def WatchAlerts(self, request, context):
        for n, kind in enumerate(request.kinds or ["safety"]):
            yield feedback.WatchAlertsResponse(alert=feedback.Alert(alert_id=f"alert-{n}", kind=kind))
        if "rating_drop" in request.kinds:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.cancelled.set()
                raise


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


def gateway_settings(target: str, **overrides) -> Settings:
    values = dict(
        analytics_target=target,
        reco_target=target,
        feedback_target=target,
        max_request_bytes=MAX_REQUEST_BYTES,
        gateway_deadline_seconds=5.0,
    )
    values.update(overrides)
    return Settings(**values)


async def start_gateway(settings: Settings) -> TestServer:
    # handler_cancellation: a client that goes away cancels its handler (and the gRPC call).
    server = TestServer(create_app(settings), host="127.0.0.1", handler_cancellation=True)
    await server.start_server()
    return server


@pytest.fixture(scope="session")
async def gateway_url(grpc_target):
    server = await start_gateway(gateway_settings(grpc_target))
    yield str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture(scope="session")
async def http():
    async with aiohttp.ClientSession() as session:
        yield session
