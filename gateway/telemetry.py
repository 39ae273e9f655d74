"""The gateway's part of telemetry: a SERVER span per HTTP request, its duration, and /metrics.

    app = web.Application(middlewares=[http_telemetry(router), ...])   # router: the contract's routes
    app.router.add_get("/metrics", metrics_endpoint)

An incoming `traceparent` header (a StoryVerse app or a proxy that traces) is continued;
otherwise the request starts a trace. The span is current while the handler runs, so the
gRPC client interceptor (common/telemetry_grpc.py) passes it on to the services, and the
trace id goes back in the X-Trace-Id header for bug reports.
"""

from __future__ import annotations

import time

import grpc
from aiohttp import web
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from common import metrics, telemetry
from gateway.routes import Router

TRACE_ID_HEADER = "X-Trace-Id"
# Probes and scrapes every few seconds: no trace for them.
UNTRACED = frozenset({"/healthz", "/readyz", "/metrics"})


def http_telemetry(router: Router):
    """The middleware; `router` names each API request's route by its contract template."""

    @web.middleware
    async def traced(request: web.Request, handler) -> web.StreamResponse:
        if request.path in UNTRACED:
            return await handler(request)
        return await _traced(request, handler, _route_template(router, request))

    return traced


async def _traced(request: web.Request, handler, route: str) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    with telemetry.tracer.start_as_current_span(
        f"{request.method} {route}",
        context=propagate.extract(request.headers),
        kind=SpanKind.SERVER,
        attributes={
            "http.request.method": request.method,
            "http.route": route,
            "url.path": request.path,
            "server.address": request.host,
        },
    ) as span:
        try:
            response = await handler(request)
            status = response.status
            if not response.prepared and (trace_id := telemetry.current_trace_id()):
                response.headers[TRACE_ID_HEADER] = trace_id
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            metrics.HTTP_DURATION.record(
                time.perf_counter() - started,
                {
                    "http.request.method": request.method,
                    "http.route": route,
                    "http.response.status_code": status,
                },
            )


async def metrics_endpoint(request: web.Request) -> web.Response:
    """Prometheus scrape endpoint: every instrument of this process."""
    body = telemetry.prometheus_text()
    return web.Response(body=body, headers={"Content-Type": telemetry.PROMETHEUS_CONTENT_TYPE})


def _route_template(router: Router, request: web.Request) -> str:
    """The contract's path template (bounded label values), "static" for the dashboard files."""
    if request.path.startswith("/api/"):
        try:
            route, _ = router.resolve(request.method, request.raw_path.split("?", 1)[0])
            return route.template.source
        except Exception:  # noqa: BLE001 - unknown route or method: the handler answers 404/405
            return "/api/*"
    return "static"


def trace_metadata() -> tuple[tuple[str, str], ...]:
    """The current trace context (W3C traceparent) as gRPC metadata for the services."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return tuple(carrier.items())


async def traced_call(call, message, metadata: tuple, timeout: float, grpc_path: str):
    """A unary call with a CLIENT span (when the request is traced) and the trace context in its
    metadata: what common/telemetry_grpc's client interceptor does, without grpc.aio's
    interceptor machinery (a task and a chain of awaits per call)."""
    if not trace.get_current_span().is_recording():
        return await call(message, metadata=metadata + trace_metadata(), timeout=timeout)
    method = grpc_path.lstrip("/")
    service, _, name = method.partition("/")
    with telemetry.tracer.start_as_current_span(
        method,
        kind=SpanKind.CLIENT,
        attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": name},
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            reply = await call(message, metadata=metadata + trace_metadata(), timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            span.set_attribute("rpc.grpc.status_code", exc.code().value[0])
            span.set_status(Status(StatusCode.ERROR, exc.code().name))
            raise
        span.set_attribute("rpc.grpc.status_code", grpc.StatusCode.OK.value[0])
        return reply
