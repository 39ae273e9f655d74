"""OpenTelemetry for our processes: traces, metrics, and the trace id in every log line.

    from common import telemetry
    telemetry.setup("analytics", settings)             # once per process, before serving
    with telemetry.tracer.start_as_current_span("rank candidates"):
        ...
    counter = telemetry.meter.create_counter("...")    # named instruments live in common/metrics.py
    body = telemetry.prometheus_text()                 # what a /metrics endpoint answers

Traces and metrics leave over OTLP/gRPC when SV_OTLP_ENDPOINT is set; metrics are always
scrapable (the gateway's /metrics, SV_METRICS_PORT on the services). Without any span
exporter nothing is recorded (cheap), yet trace ids are still made and propagated, so the
log lines of one request carry the same trace_id in every process. Tests attach in-memory
exporters with `add_span_exporter` / `add_metric_reader`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Sequence

import prometheus_client
from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, SpanKind
from opentelemetry.util.types import Attributes

from common.settings import Settings

log = logging.getLogger(__name__)
SCOPE = "storyverse"
# Seconds; the SDK's default buckets are made for milliseconds.
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

MAX_LINKS = 32
# Deadline of one OTLP export, retries included: the last flush at exit must fit in the pod's
# termination grace period even when the collector is gone.
OTLP_TIMEOUT_SECONDS = 3.0
# Proxies: usable at import time, bound to the real providers by setup().
tracer = trace.get_tracer(SCOPE)
meter = metrics.get_meter(SCOPE)
registry = prometheus_client.CollectorRegistry(auto_describe=True)

_lock = threading.Lock()
_tracer_provider: TracerProvider | None = None
_meter_provider: MeterProvider | None = None
_metrics_server: object | None = None


class _Switchable(Sampler):
    """Drops every span until an exporter exists (recording for nobody is waste, even when a
    caller's traceparent says "sampled"); then follows the parent, sampling `ratio` of new traces."""

    def __init__(self, ratio: float) -> None:
        self.delegate = ParentBased(root=TraceIdRatioBased(ratio))
        self.enabled = False

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state=None,
    ) -> SamplingResult:
        if not self.enabled:
            return SamplingResult(Decision.DROP)
        return self.delegate.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"Switchable({self.enabled}, {self.delegate.get_description()})"


_sampler = _Switchable(1.0)


def setup(service: str, settings: Settings | None = None) -> None:
    """Install this process's tracer and meter providers (the first call wins; later ones do nothing)."""
    global _tracer_provider, _meter_provider
    settings = settings or Settings.from_env()
    with _lock:
        if _tracer_provider is None:
            resource = Resource.create(
                {
                    "service.name": f"storyverse-{service}",
                    "service.namespace": "storyverse",
                    "service.instance.id": f"{socket.gethostname()}-{os.getpid()}",
                }
            )
            _sampler.delegate = ParentBased(root=TraceIdRatioBased(settings.trace_sample_ratio))
            _tracer_provider = TracerProvider(resource=resource, sampler=_sampler)
            trace.set_tracer_provider(_tracer_provider)
            readers: list[MetricReader] = [
                PrometheusMetricReader(registry=registry, scope_info_enabled=False)
            ]
            if settings.otlp_endpoint:
                from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

                exporter = OTLPMetricExporter(
                    settings.otlp_endpoint, insecure=True, timeout=OTLP_TIMEOUT_SECONDS
                )
                readers.append(PeriodicExportingMetricReader(exporter))
            _meter_provider = MeterProvider(
                metric_readers=readers,
                resource=resource,
                views=[
                    View(
                        instrument_name="*",
                        instrument_unit="s",
                        aggregation=ExplicitBucketHistogramAggregation(DURATION_BUCKETS),
                    )
                ],
            )
            metrics.set_meter_provider(_meter_provider)
            _install_log_correlation()
            if settings.otlp_endpoint:
                from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

                span_exporter = OTLPSpanExporter(
                    settings.otlp_endpoint, insecure=True, timeout=OTLP_TIMEOUT_SECONDS
                )
                add_span_exporter(span_exporter, batch=True)


def add_span_exporter(exporter: SpanExporter, batch: bool = False) -> None:
    """Send finished spans to exporter (batched in production, at once in tests) and start recording."""
    if _tracer_provider is None:
        raise RuntimeError("telemetry.setup() first")
    processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    _tracer_provider.add_span_processor(processor)
    _sampler.enabled = True


def add_metric_reader(reader: MetricReader) -> None:
    if _meter_provider is None:
        raise RuntimeError("telemetry.setup() first")
    _meter_provider.add_metric_reader(reader)


def prometheus_text() -> bytes:
    """The Prometheus exposition of every instrument of this process."""
    return prometheus_client.generate_latest(registry)


PROMETHEUS_CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST


def serve_metrics(host: str, port: int) -> int:
    """Serve /metrics on host:port from a daemon thread (services have no HTTP server of their own).

    Returns the bound port, or 0 when it is taken (e.g. several processes on one machine share
    SV_METRICS_PORT): metrics are worth a warning, not a service that refuses to start."""
    global _metrics_server
    try:
        server, _thread = prometheus_client.start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        log.warning("metrics endpoint not started", extra={"fields": {"port": port, "error": str(exc)}})
        return 0
    _metrics_server = server
    bound = server.server_address[1]
    log.info("metrics endpoint started", extra={"fields": {"address": f"{host}:{bound}"}})
    return bound


def span_context() -> trace.SpanContext:
    """The current span's context, to hand to work done later on the caller's behalf."""
    return trace.get_current_span().get_span_context()


def joined_span(
    name: str,
    parents: Sequence[trace.SpanContext],
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Attributes = None,
):
    """A span for work done once for many callers (a group commit, a consumed batch).

    Its parent is the first caller's span, so each trace shows the work; the other
    callers' spans are links. Without a valid caller it starts a trace of its own.

        with telemetry.joined_span("events flush", [p.span for p in group], attributes={"rows": n}):
            ...
    """
    valid = [context for context in parents if context.is_valid]
    parent = trace.set_span_in_context(trace.NonRecordingSpan(valid[0])) if valid else None
    seen = {valid[0].span_id} if valid else set()
    links = []
    for context in valid[1:MAX_LINKS]:
        if context.span_id not in seen:
            seen.add(context.span_id)
            links.append(Link(context))
    return tracer.start_as_current_span(name, context=parent, kind=kind, links=links, attributes=attributes)


def current_trace_id() -> str:
    """The current trace id as 32 hex digits, or "" outside any trace."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.trace_id else ""


def _install_log_correlation() -> None:
    # A record factory rather than a handler filter: it sees every record, whichever handler
    # configure_logging (or a library) installs later. logs.py prints otelTraceID as trace_id.
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_storyverse", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        context = trace.get_current_span().get_span_context()
        if context.trace_id:
            record.otelTraceID = format(context.trace_id, "032x")
            record.otelSpanID = format(context.span_id, "016x")
        return record

    factory._storyverse = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
