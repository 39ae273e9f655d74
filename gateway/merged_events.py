"""Events from many HTTP callers, sent to analytics as one batch call.

`POST /api/analytics/events` carries one event. As its own gRPC call it costs the analytics
service about 1.5 ms of CPU; inside a batch, about 30 µs (docs/benchmarks.md). The gateway
therefore merges the single events that arrive while earlier ones are on their way, a group
commit at the edge: with no call in flight an event leaves at once (no added latency at low
rates); under load the events that queue behind the calls in flight leave together. Batches
(`POST /api/analytics/events:batch`) are merged the same way: a call costs each side (the
gateway's gRPC client, the service's gRPC server) a fixed part per call, so a few batches of
100 in one call cost less than as calls of their own.

Each caller still gets the answer its own call would have got: the batch answer lists every
rejection and every duplicate by position (`IngestResult.rejections`, `.duplicate_indexes`),
so each caller's part is cut out and renumbered; an invalid single event gets the single
route's 400 (field `event.<path>`), and an error of the whole call (unavailable, rate limited,
...) is every merged caller's error. A batch that could fail as a whole on its own (empty, or
larger than one merged call may be) is never merged. Events are merged only with others
carrying the same credentials, and the call says how many callers it carries
(`x-sv-merged-calls`) so that the service's rate limit charges each of them (common/limits.py).
The call's body is the callers' serialized requests joined: the repeated field 1 of
RecordEventsRequest concatenates, so nothing is parsed or copied again.

    merger = EventMerger(raw_batch_call, settings)   # request_serializer=None: bytes
    reply = await merger.record(request.event, metadata)   # a RecordEventResponse
    reply = await merger.record_batch(request, metadata)   # a RecordEventsResponse, or None:
                                                           # not mergeable, call it yourself
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
MAX_BATCH = 500  # events per merged call, of RecordEvents' 1,000
MAX_CALL_BYTES = 4 * 1024 * 1024  # a merged call's body, well under the services' 16 MiB
_EVENTS_TAG = b"\x0a"  # RecordEventsRequest field 1 (events), length-delimited


@dataclass(slots=True)
class _Caller:
    """One caller's events as they go on the wire (a RecordEventsRequest's bytes), how many,
    where its answer goes, and its span (linked from the merged call's)."""

    wire: bytes
    count: int
    single: bool
    answer: asyncio.Future
    context: trace.SpanContext


@dataclass
class _Lane:
    """The callers of one set of credentials waiting for a call, and its calls in flight."""

    waiting: list[_Caller] = field(default_factory=list)
    in_flight: int = 0


class EventMerger:
    def __init__(self, batch_call: Callable, settings: Settings) -> None:
        self.batch_call = batch_call  # takes the request's bytes
        self.deadline = settings.gateway_deadline_seconds
        # With keys, a call may carry no more callers than a key's bucket holds (rate limit).
        self.max_callers = min(MAX_BATCH, settings.rate_limit_burst) if auth_required(settings) else MAX_BATCH
        self.lanes: dict[tuple, _Lane] = {}

    async def record(self, event: pb.Event, metadata: tuple[tuple[str, str], ...]) -> pb.RecordEventResponse:
        body = event.SerializeToString()
        return await self._join(metadata, _EVENTS_TAG + _varint(len(body)) + body, 1, single=True)

    async def record_batch(
        self, request: pb.RecordEventsRequest, metadata: tuple[tuple[str, str], ...]
    ) -> pb.RecordEventsResponse | None:
        """The answer of this batch as its own call would have got it; None for a batch that
        is not merged (empty or too large: its own call gives its own error or answer)."""
        count = len(request.events)
        if not 0 < count <= MAX_BATCH // 2:
            return None
        return await self._join(metadata, request.SerializeToString(), count, single=False)

    async def _join(self, metadata: tuple, wire: bytes, count: int, single: bool):
        credentials = tuple(pair for pair in metadata if pair[0] != "x-request-id")
        lane = self.lanes.get(credentials)
        if lane is None:
            lane = self.lanes[credentials] = _Lane()
        answer = asyncio.get_running_loop().create_future()
        lane.waiting.append(_Caller(wire, count, single, answer, trace.get_current_span().get_span_context()))
        if lane.in_flight < MAX_IN_FLIGHT and len(lane.waiting) == 1:
            lane.in_flight += 1
            # Next loop turn, so that events arriving in this turn go in the same call.
            asyncio.get_running_loop().call_soon(self._send, credentials, lane)
        return await answer  # cancelled with its caller; the events are sent all the same

    def _send(self, credentials: tuple, lane: _Lane) -> None:
        taken, events, size = 0, 0, 0
        for caller in lane.waiting:
            full = events + caller.count > MAX_BATCH or size + len(caller.wire) > MAX_CALL_BYTES
            if taken and (full or taken == self.max_callers):
                break
            taken, events, size = taken + 1, events + caller.count, size + len(caller.wire)
        batch, lane.waiting = lane.waiting[:taken], lane.waiting[taken:]
        task = asyncio.ensure_future(self._call(credentials, batch, events))
        task.add_done_callback(lambda _: self._after_call(credentials, lane))

    def _after_call(self, credentials: tuple, lane: _Lane) -> None:
        if lane.waiting:
            self._send(credentials, lane)  # the events that queued meanwhile, at once
            return
        lane.in_flight -= 1
        if not lane.in_flight:
            self.lanes.pop(credentials, None)

    async def _call(self, credentials: tuple, batch: list[_Caller], events: int) -> None:
        metrics.MERGED_EVENT_CALLS.add(1)
        metrics.MERGED_EVENTS.add(events)
        metadata = (*credentials, ("x-request-id", uuid.uuid4().hex), (MERGED_CALLS_KEY, str(len(batch))))
        # The call runs in the first caller's trace; a span there links every merged caller's.
        links = [trace.Link(caller.context) for caller in batch if caller.context.is_valid]
        try:
            with telemetry.tracer.start_as_current_span("merged events", links=links) as span:
                span.set_attribute("storyverse.merged_calls", len(batch))
                body = b"".join(caller.wire for caller in batch)
                reply = await traced_call(self.batch_call, body, metadata, self.deadline, BATCH_PATH)
        except grpc.aio.AioRpcError as exc:
            for caller in batch:
                _settle(caller.answer, error=from_rpc_error(exc))
            return
        except Exception as exc:  # the gateway's own failure: every caller learns it
            for caller in batch:
                _settle(caller.answer, error=exc)
            return
        rejected = {r.index: r for r in reply.result.rejections}
        duplicates = set(reply.result.duplicate_indexes)
        start = 0
        for caller in batch:
            if caller.single:
                _settle(caller.answer, *_single_answer(start, rejected, duplicates))
            else:
                _settle(caller.answer, _batch_answer(start, caller.count, rejected, duplicates))
            start += caller.count


def _single_answer(index: int, rejected: dict, duplicates: set) -> tuple:
    if index in rejected:
        return None, _invalid(rejected[index])
    if index in duplicates:
        return pb.RecordEventResponse(result=pb.IngestResult(duplicates=1, duplicate_indexes=[0])), None
    return pb.RecordEventResponse(result=pb.IngestResult(accepted=1)), None


def _batch_answer(start: int, count: int, rejected: dict, duplicates: set) -> pb.RecordEventsResponse:
    """The caller's events at [start, start + count) of the merged call, renumbered from 0."""
    rejections = []
    for index in range(start, start + count) if rejected else ():
        if (r := rejected.get(index)) is not None:
            rejections.append(
                pb.EventRejection(index=index - start, event_id=r.event_id, field=r.field, reason=r.reason)
            )
    repeated = [i - start for i in sorted(duplicates) if start <= i < start + count]
    return pb.RecordEventsResponse(
        result=pb.IngestResult(
            accepted=count - len(rejections) - len(repeated),
            duplicates=len(repeated),
            rejected=len(rejections),
            rejections=rejections,
            duplicate_indexes=repeated,
        )
    )


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _invalid(rejection: pb.EventRejection) -> GatewayError:
    """The 400 the single route gives for this event (analytics_svc/server.py RecordEvent)."""
    error = InvalidArgument.of([FieldViolation(f"event.{rejection.field}", rejection.reason)])
    return GatewayError(400, error.message, error.violations)


def _settle(answer: asyncio.Future, reply=None, error=None) -> None:
    if answer.done():  # cancelled: its caller went away
        return
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(reply)
