"""The named instruments of the Monitoring Metrics table, in one place so names never drift.

    from common import metrics
    metrics.EVENTS_INGESTED.add(120, {"source": "grpc", "outcome": "accepted"})
    with metrics.timed(metrics.INFERENCE_LATENCY, {"model": "ease"}):
        scores = model.run(...)
    metrics.set_model_accuracy("v20261124T0300-ab12", "collaborative_ndcg@10", 0.41)

Table row → instrument (Prometheus name) → who records it:
- event ingestion rate → storyverse.events.ingested (storyverse_events_ingested_total)
  → RPC telemetry, from RecordEvent(s) replies
- processing latency → storyverse.bus.processing.latency (..._seconds) → the event bus,
  publish → handled
- storage utilization → storyverse.storage.bytes → analytics_svc/storage_metrics.py
- recommendation requests → storyverse.reco.requests → RPC telemetry (Recommend, ListRecommendations)
- inference latency → storyverse.reco.inference.duration → reco_svc/serving.py, around the
  onnxruntime call
- model accuracy → storyverse.reco.model.accuracy → reco_svc/model_watch.py when a version
  starts serving (the offline evaluation in its registry row)
- a model version the engine cannot fetch → storyverse.reco.model.outdated and
  .fetch.failures → reco_svc/model_watch.py
- in-process features → storyverse.reco.features.bytes / .entries → reco_svc/service.py, every 10 s
- feedback submission rate → storyverse.feedback.submitted → RPC telemetry (SubmitFeedback)
- sentiment analysis accuracy → storyverse.feedback.sentiment.accuracy → feedback_svc/accuracy.py:
  the model's evaluation metadata at load, moderators' decisions after each one
- processing time → rpc.server.duration (every RPC) and storyverse.feedback.processing.duration
  (feedback_svc/analysis.py, per analysed entry)

Plus consumer lag (storyverse.bus.consumer.lag) and HTTP request durations of the gateway.
Durations are in seconds (unit "s": see telemetry.DURATION_BUCKETS).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry.metrics import Histogram

from common.telemetry import meter

EVENTS_INGESTED = meter.create_counter(
    "storyverse.events.ingested", unit="{event}", description="events received, by source and outcome"
)
BUS_PROCESSING_LATENCY = meter.create_histogram(
    "storyverse.bus.processing.latency",
    unit="s",
    description="time from publishing a message to its handler finishing, by topic and group",
)
BUS_MESSAGES = meter.create_counter(
    "storyverse.bus.messages", unit="{message}", description="messages handled, by topic, group and outcome"
)
BUS_SKIPPED = meter.create_counter(
    "storyverse.bus.skipped",
    unit="{message}",
    description="messages a consumer group never handled: gone from the topic (retention) before it read",
)
BUS_CONSUMER_LAG = meter.create_gauge(
    "storyverse.bus.consumer.lag",
    unit="{message}",
    description="high watermark minus the committed offset, per topic, partition and group",
)
STORAGE_BYTES = meter.create_gauge(
    "storyverse.storage.bytes", unit="By", description="on-disk size of a table with its indexes and TOAST"
)
RECO_REQUESTS = meter.create_counter(
    "storyverse.reco.requests", unit="{request}", description="recommendation requests, by method and code"
)
RECO_FEATURE_BYTES = meter.create_gauge(
    "storyverse.reco.features.bytes",
    unit="By",
    description="estimated size of the features the engine keeps in process (SV_RECO_FEATURE_MEMORY_MB)",
)
RECO_FEATURE_ENTRIES = meter.create_gauge(
    "storyverse.reco.features.entries", unit="{entry}", description="entries of the in-process feature store"
)
INFERENCE_LATENCY = meter.create_histogram(
    "storyverse.reco.inference.duration", unit="s", description="model scoring time per request"
)
MODEL_ACCURACY = meter.create_gauge(
    "storyverse.reco.model.accuracy", description="offline metric of the active model, from the registry"
)
MODEL_OUTDATED = meter.create_gauge(
    "storyverse.reco.model.outdated",
    description="1 while the registry's active model version cannot be fetched or loaded and an "
    "older one serves, else 0",
)
MODEL_FETCH_FAILURES = meter.create_counter(
    "storyverse.reco.model.fetch.failures",
    unit="{attempt}",
    description="failed attempts to fetch or load the active model version, by reason "
    "(unavailable, checksum, version, unreadable)",
)
ASSIGNMENT_LOOKUPS = meter.create_counter(
    "storyverse.reco.assignment.lookups",
    unit="{lookup}",
    description="variants of recommendation experiments looked up while serving, by source "
    "(cache, analytics, failed: analytics unreachable, the child gets control)",
)
FEEDBACK_SUBMITTED = meter.create_counter(
    "storyverse.feedback.submitted", unit="{feedback}", description="feedback submissions, by code"
)
SENTIMENT_ACCURACY = meter.create_gauge(
    "storyverse.feedback.sentiment.accuracy",
    description="accuracy of the loaded sentiment model, by source: sst2_dev (its held-out "
    "evaluation) or moderation (share of moderated stories whose flag moderators upheld)",
)
FEEDBACK_PROCESSING = meter.create_histogram(
    "storyverse.feedback.processing.duration",
    unit="s",
    description="time to analyse one feedback entry (its batch: read, scored, stored, alerts checked)",
)
RPC_DURATION = meter.create_histogram(
    "rpc.server.duration", unit="s", description="gRPC call duration, by method and status code"
)
REDIS_FALLBACKS = meter.create_counter(
    "storyverse.redis.fallbacks", unit="{call}", description="Redis calls answered by the in-process fallback"
)
REDIS_REPLAYED = meter.create_counter(
    "storyverse.redis.replayed",
    unit="{write}",
    description="writes kept while Redis was away, by outcome: sent when it answered again, or dropped",
)
HTTP_DURATION = meter.create_histogram(
    "http.server.request.duration", unit="s", description="gateway HTTP request duration"
)
MERGED_EVENT_CALLS = meter.create_counter(
    "storyverse.gateway.merged_event_calls",
    unit="{call}",
    description="batch calls the gateway made of merged callers' events (gateway/merged_events.py)",
)
MERGED_EVENTS = meter.create_counter(
    "storyverse.gateway.merged_events",
    unit="{event}",
    description="events the gateway sent in those calls",
)

ERASURE_STEPS = meter.create_counter(
    "storyverse.erasure.steps", unit="{run}", description="erasure step runs, by step and outcome"
)
ERASURE_DROPPED = meter.create_counter(
    "storyverse.erasure.dropped",
    unit="{item}",
    description="data of erased users dropped on arrival (tombstones), by where",
)


@contextmanager
def timed(histogram: Histogram, attributes: Mapping[str, str] | None = None) -> Iterator[None]:
    """Record the block's wall time in seconds (also when it raises)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        histogram.record(time.perf_counter() - started, dict(attributes or {}))


def set_model_accuracy(model: str, metric: str, value: float) -> None:
    """The reco service calls this when it activates a model, with each metric of its registry row."""
    MODEL_ACCURACY.set(value, {"model": model, "metric": metric})
