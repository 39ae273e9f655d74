"""Transport-only test doubles and helpers for the gateway tests (imported by conftest and tests)."""

from __future__ import annotations

import asyncio

import grpc
from aiohttp.test_utils import TestServer
from google.api import httpbody_pb2
from storyverse.analytics.v1 import analytics_service_pb2 as analytics
from storyverse.analytics.v1 import analytics_service_pb2_grpc
from storyverse.feedback.v1 import feedback_service_pb2 as feedback
from storyverse.feedback.v1 import feedback_service_pb2_grpc

from common.errors import STATUS_DETAILS_KEY, FieldViolation, status_details
from common.settings import Settings
from gateway.app import create_app

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


def contract_binding_count() -> int:
    """HTTP bindings written in proto/, counted from the .proto text itself (independent of the router)."""
    import re
    from pathlib import Path

    proto = Path(__file__).resolve().parents[2] / "proto"
    pattern = re.compile(r'(?:^|[{\s])(?:get|post|put|patch|delete):\s*"', re.MULTILINE)
    return sum(len(pattern.findall(p.read_text())) for p in proto.rglob("*.proto"))
