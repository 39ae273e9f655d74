"""gRPC transport of the analytics service: protobuf in, domain calls, protobuf out."""

from __future__ import annotations

import asyncpg
from storyverse.analytics.v1 import analytics_service_pb2 as pb
from storyverse.analytics.v1 import analytics_service_pb2_grpc as pb_grpc

from analytics_svc import messages
from analytics_svc.eventstore.base import EventStore
from analytics_svc.ingestion.recorder import EventRecorder, Outcome
from analytics_svc.reports import by_type as reports
from analytics_svc.reports import click_through, dashboard
from analytics_svc.requests import dashboard_params, report_params
from common.errors import FieldViolation, InvalidArgument


class AnalyticsServicer(pb_grpc.AnalyticsServiceServicer):
    def __init__(self, recorder: EventRecorder, pool: asyncpg.Pool, events: EventStore) -> None:
        self.recorder = recorder
        self.pool = pool
        self.events = events

    async def RecordEvent(self, request: pb.RecordEventRequest, context) -> pb.RecordEventResponse:
        outcome = await self.recorder.record([request.event], wire=request.SerializeToString)
        if outcome.rejections:
            rejection = outcome.rejections[0]
            # Kept in failed_events already; the caller learns which field was wrong.
            raise InvalidArgument.of([FieldViolation(f"event.{rejection.field}", rejection.reason)])
        return pb.RecordEventResponse(result=_result(outcome))

    async def RecordEvents(self, request: pb.RecordEventsRequest, context) -> pb.RecordEventsResponse:
        # The request's bytes (field 1: the events) let ingestion read valid events in C.
        outcome = await self.recorder.record(request.events, wire=request.SerializeToString)
        return pb.RecordEventsResponse(result=_result(outcome))

    async def GetDashboard(self, request: pb.GetDashboardRequest, context) -> pb.GetDashboardResponse:
        return messages.dashboard(
            await dashboard.build(self.pool, dashboard_params(request), events=self.events)
        )

    async def GetReport(self, request: pb.GetReportRequest, context) -> pb.GetReportResponse:
        return messages.report(await reports.build(self.pool, report_params(request), self.events))

    async def GetRecommendationClickThrough(
        self, request: pb.GetRecommendationClickThroughRequest, context
    ) -> pb.GetRecommendationClickThroughResponse:
        return messages.click_through(await click_through.build(self.events, dashboard_params(request)))

    async def ExportReport(self, request: pb.ExportReportRequest, context) -> pb.ExportReportResponse:
        return messages.export(await reports.build(self.pool, report_params(request), self.events))


def _result(outcome: Outcome) -> pb.IngestResult:
    return pb.IngestResult(
        accepted=outcome.accepted,
        duplicates=outcome.duplicates,
        rejected=len(outcome.rejections),
        rejections=[
            pb.EventRejection(index=r.index, event_id=r.event_id, field=r.field, reason=r.reason)
            for r in outcome.rejections
        ],
        duplicate_indexes=outcome.duplicate_positions,
    )
