"""Traces and metrics over gRPC: W3C trace context in the call metadata, both directions.

    server = grpc.aio.server(interceptors=[ServerTelemetry(), ServiceInterceptor(...)])
    channel = grpc.aio.insecure_channel(target, interceptors=client_interceptors())

The server side continues the caller's trace (a SERVER span per call of our services),
records rpc.server.duration and the contract-level counters of common/metrics.py (events
ingested from RecordEvent(s) replies, recommendation requests, feedback submissions). It is
the outermost interceptor, so the log line of ServiceInterceptor carries the trace id.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from common import metrics
from common.telemetry import tracer

_ANALYTICS = "/storyverse.analytics.v1.AnalyticsService/"
_RECO = "/storyverse.recommendation.v1.RecommendationService/"
_FEEDBACK = "/storyverse.feedback.v1.FeedbackService/"


def _ingested(request, response, code: str) -> None:
    if response is None:  # a failed call: nothing was recorded
        return
    result = response.result
    duplicates_and_rejected = {"duplicate": result.duplicates, "rejected": result.rejected}
    metrics.EVENTS_INGESTED.add(result.accepted, {"source": "grpc", "outcome": "accepted"})
    for outcome, count in duplicates_and_rejected.items():
        if count:
            metrics.EVENTS_INGESTED.add(count, {"source": "grpc", "outcome": outcome})


def _reco_request(method: str) -> Callable:
    return lambda request, response, code: metrics.RECO_REQUESTS.add(1, {"method": method, "code": code})


def _feedback(request, response, code: str) -> None:
    metrics.FEEDBACK_SUBMITTED.add(1, {"code": code})


# Contract-level metrics read from the call itself: (request, response or None, code name).
CALL_METRICS: dict[str, Callable] = {
    _ANALYTICS + "RecordEvent": lambda request, response, code: (
        metrics.EVENTS_INGESTED.add(1, {"source": "grpc", "outcome": "rejected"})
        if code == "INVALID_ARGUMENT"
        else _ingested(request, response, code)
    ),
    _ANALYTICS + "RecordEvents": _ingested,
    _RECO + "Recommend": _reco_request("Recommend"),
    _RECO + "ListRecommendations": _reco_request("ListRecommendations"),
    _FEEDBACK + "SubmitFeedback": _feedback,
}


class _MetadataGetter:
    def get(self, carrier, key: str):
        values = [v for k, v in carrier if k == key]
        return [v.decode() if isinstance(v, bytes) else v for v in values] or None

    def keys(self, carrier):
        return [k for k, _ in carrier]


_GETTER = _MetadataGetter()


class ServerTelemetry(grpc.aio.ServerInterceptor):
    async def intercept_service(self, continuation, handler_call_details):  # type: ignore[override]
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not method.startswith("/storyverse."):
            return handler  # health and reflection: probes every few seconds, not worth a trace
        parent = propagate.extract(handler_call_details.invocation_metadata or (), getter=_GETTER)
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, parent, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(method, parent, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    def _unary(self, method: str, parent, behavior):
        async def wrapped(request, context):
            started = time.perf_counter()
            response = None
            with _server_span(method, parent) as span:
                try:
                    response = await behavior(request, context)
                    return response
                finally:
                    _finish(span, method, request, response, context, started)

        return wrapped

    def _stream(self, method: str, parent, behavior):
        async def wrapped(request, context):
            started = time.perf_counter()
            with _server_span(method, parent) as span:
                try:
                    async for response in behavior(request, context):
                        yield response
                finally:
                    _finish(span, method, request, None, context, started)

        return wrapped


def _server_span(method: str, parent):
    service, _, name = method.lstrip("/").partition("/")
    return tracer.start_as_current_span(
        method.lstrip("/"),
        context=parent,
        kind=SpanKind.SERVER,
        attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": name},
        record_exception=False,  # ServiceInterceptor logs and maps errors; aborts are not exceptions to us
        set_status_on_exception=False,
    )


def _finish(span, method: str, request, response, context, started: float) -> None:
    code = _code(context)
    span.set_attribute("rpc.grpc.status_code", code.value[0])
    if code not in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND):
        span.set_status(Status(StatusCode.ERROR, code.name))
    metrics.RPC_DURATION.record(time.perf_counter() - started, {"rpc.method": method, "code": code.name})
    record = CALL_METRICS.get(method)
    if record is not None:
        record(request, response, code.name)


def _code(context) -> grpc.StatusCode:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    if isinstance(code, int):  # some grpc versions keep the raw integer
        return next((c for c in grpc.StatusCode if c.value[0] == code), grpc.StatusCode.UNKNOWN)
    return grpc.StatusCode.OK


def _with_trace_context(details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    metadata = grpc.aio.Metadata(*(details.metadata or ()))
    for key, value in carrier.items():
        metadata[key] = value
    return grpc.aio.ClientCallDetails(
        details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
    )


class _UnaryUnaryClient(grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation, client_call_details, request):
        if not trace.get_current_span().is_recording():  # e.g. /readyz health checks: no trace of their own
            return await continuation(_with_trace_context(client_call_details), request)
        method = _text(client_call_details.method)
        service, _, name = method.lstrip("/").partition("/")
        with tracer.start_as_current_span(
            method.lstrip("/"),
            kind=SpanKind.CLIENT,
            attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": name},
            record_exception=False,
        ) as span:
            call = await continuation(_with_trace_context(client_call_details), request)
            code = await call.code()
            span.set_attribute("rpc.grpc.status_code", code.value[0])
            if code != grpc.StatusCode.OK:
                span.set_status(Status(StatusCode.ERROR, code.name))
            return call


class _UnaryStreamClient(grpc.aio.UnaryStreamClientInterceptor):
    # No client span: a stream lives as long as its watcher; the server span shows the call.
    async def intercept_unary_stream(self, continuation, client_call_details, request):
        return await continuation(_with_trace_context(client_call_details), request)


def client_interceptors() -> list[grpc.aio.ClientInterceptor]:
    """Interceptors for a grpc.aio channel: a CLIENT span per unary call, trace context in metadata."""
    return [_UnaryUnaryClient(), _UnaryStreamClient()]


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


__all__ = ["CALL_METRICS", "ServerTelemetry", "client_interceptors"]
