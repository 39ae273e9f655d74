"""gRPC transport of the analytics service: protobuf in, domain calls, protobuf out."""

from __future__ import annotations

from storyverse.analytics.v1 import analytics_service_pb2 as pb
from storyverse.analytics.v1 import analytics_service_pb2_grpc as pb_grpc

from analytics_svc.recorder import EventRecorder, Outcome
from common.errors import FieldViolation, InvalidArgument


class AnalyticsServicer(pb_grpc.AnalyticsServiceServicer):
    def __init__(self, recorder: EventRecorder) -> None:
        self.recorder = recorder

    async def RecordEvent(self, request: pb.RecordEventRequest, context) -> pb.RecordEventResponse:
        outcome = await self.recorder.record([request.event])
        if outcome.rejections:
            rejection = outcome.rejections[0]
            # Kept in failed_events already; the caller learns which field was wrong.
            raise InvalidArgument.of([FieldViolation(f"event.{rejection.field}", rejection.reason)])
        return pb.RecordEventResponse(result=_result(outcome))

    async def RecordEvents(self, request: pb.RecordEventsRequest, context) -> pb.RecordEventsResponse:
        outcome = await self.recorder.record(list(request.events))
        return pb.RecordEventsResponse(result=_result(outcome))


def _result(outcome: Outcome) -> pb.IngestResult:
    return pb.IngestResult(
        accepted=outcome.accepted,
        duplicates=outcome.duplicates,
        rejected=len(outcome.rejections),
        rejections=[
            pb.EventRejection(index=r.index, event_id=r.event_id, field=r.field, reason=r.reason)
            for r in outcome.rejections
        ],
    )
