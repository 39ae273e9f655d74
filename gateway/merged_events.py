"""Single events from many HTTP callers, sent to analytics as one batch call.

`POST /api/analytics/events` carries one event. As its own gRPC call it costs the analytics
service about 1.5 ms of CPU; inside a batch, about 30 µs (docs/benchmarks.md). The gateway
therefore merges the single events that arrive while earlier ones are on their way, a group
commit at the edge: with no call in flight an event leaves at once (no added latency at low
rates); under load the events that queue behind the calls in flight leave together.

Each caller still gets the answer its own call would have got: the batch answer lists every
rejection and every duplicate by position (`IngestResult.rejections`, `.duplicate_indexes`),
an invalid event gets the single route's 400 (field `event.<path>`), and an error of the whole
call (unavailable, rate limited, ...) is every merged caller's error. Events are merged only
with others carrying the same credentials, and the call says how many callers it carries
(`x-sv-merged-calls`) so that the service's rate limit charges each of them (common/limits.py).

    merger = EventMerger(batch_call, settings)
    reply = await merger.record(request.event, metadata)   # a RecordEventResponse
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
from opentelemetry import trace
from storyverse.analytics.v1 import analytics_service_pb2 as pb

from common import metrics, telemetry
from common.auth import auth_required
from common.errors import FieldViolation, InvalidArgument
from common.limits import MERGED_CALLS_KEY
from common.settings import Settings
from gateway.errors import GatewayError, from_rpc_error
from gateway.telemetry import traced_call

SINGLE_PATH = "/storyverse.analytics.v1.AnalyticsService/RecordEvent"
BATCH_PATH = "/storyverse.analytics.v1.AnalyticsService/RecordEvents"
# Calls in flight per set of credentials before events start to wait for the next batch:
# two keep the service's writer busy while the next batch fills.
MAX_IN_FLIGHT = 2
MAX_BATCH = 500  # of RecordEvents' 1,000


@dataclass
class _Lane:
    """The events of one set of credentials waiting for a call, and its calls in flight."""

    waiting: list[tuple[pb.Event, asyncio.Future, trace.SpanContext]] = field(default_factory=list)
    in_flight: int = 0


class EventMerger:
    def __init__(self, batch_call: Callable, settings: Settings) -> None:
        self.batch_call = batch_call
        self.deadline = settings.gateway_deadline_seconds
        # With keys, a call may carry no more callers than a key's bucket holds (rate limit).
        self.max_batch = min(MAX_BATCH, settings.rate_limit_burst) if auth_required(settings) else MAX_BATCH
        self.lanes: dict[tuple, _Lane] = {}

    async def record(self, event: pb.Event, metadata: tuple[tuple[str, str], ...]) -> pb.RecordEventResponse:
        credentials = tuple(pair for pair in metadata if pair[0] != "x-request-id")
        lane = self.lanes.get(credentials)
        if lane is None:
            lane = self.lanes[credentials] = _Lane()
        answer = asyncio.get_running_loop().create_future()
        lane.waiting.append((event, answer, trace.get_current_span().get_span_context()))
        if lane.in_flight < MAX_IN_FLIGHT and len(lane.waiting) == 1:
            lane.in_flight += 1
            # Next loop turn, so that events arriving in this turn go in the same call.
            asyncio.get_running_loop().call_soon(self._send, credentials, lane)
        return await answer  # cancelled with its caller; the event is sent all the same

    def _send(self, credentials: tuple, lane: _Lane) -> None:
        batch, lane.waiting = lane.waiting[: self.max_batch], lane.waiting[self.max_batch :]
        task = asyncio.ensure_future(self._call(credentials, batch))
        task.add_done_callback(lambda _: self._after_call(credentials, lane))

    def _after_call(self, credentials: tuple, lane: _Lane) -> None:
        if lane.waiting:
            self._send(credentials, lane)  # the events that queued meanwhile, at once
            return
        lane.in_flight -= 1
        if not lane.in_flight:
            self.lanes.pop(credentials, None)

    async def _call(
        self, credentials: tuple, batch: list[tuple[pb.Event, asyncio.Future, trace.SpanContext]]
    ) -> None:
        metrics.MERGED_EVENT_CALLS.add(1)
        metrics.MERGED_EVENTS.add(len(batch))
        metadata = (*credentials, ("x-request-id", uuid.uuid4().hex), (MERGED_CALLS_KEY, str(len(batch))))
        request = pb.RecordEventsRequest(events=[event for event, _, _ in batch])
        # The call runs in the first caller's trace; a span there links every merged caller's.
        links = [trace.Link(context) for _, _, context in batch if context.is_valid]
        try:
            with telemetry.tracer.start_as_current_span("merged events", links=links) as span:
                span.set_attribute("storyverse.merged_calls", len(batch))
                reply = await traced_call(self.batch_call, request, metadata, self.deadline, BATCH_PATH)
        except grpc.aio.AioRpcError as exc:
            for _, answer, _ in batch:
                _settle(answer, error=from_rpc_error(exc))
            return
        except Exception as exc:  # the gateway's own failure: every caller learns it
            for _, answer, _ in batch:
                _settle(answer, error=exc)
            return
        rejected = {r.index: r for r in reply.result.rejections}
        duplicates = set(reply.result.duplicate_indexes)
        for index, (_, answer, _) in enumerate(batch):
            if index in rejected:
                _settle(answer, error=_invalid(rejected[index]))
            elif index in duplicates:
                _settle(
                    answer,
                    pb.RecordEventResponse(result=pb.IngestResult(duplicates=1, duplicate_indexes=[0])),
                )
            else:
                _settle(answer, pb.RecordEventResponse(result=pb.IngestResult(accepted=1)))


def _invalid(rejection: pb.EventRejection) -> GatewayError:
    """The 400 the single route gives for this event (analytics_svc/server.py RecordEvent)."""
    error = InvalidArgument.of([FieldViolation(f"event.{rejection.field}", rejection.reason)])
    return GatewayError(400, error.message, error.violations)


def _settle(answer: asyncio.Future, reply: pb.RecordEventResponse | None = None, error=None) -> None:
    if answer.done():  # cancelled: its caller went away
        return
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(reply)
