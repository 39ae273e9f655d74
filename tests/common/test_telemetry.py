"""Traces, metrics and log correlation, read back from in-memory exporters.

One HTTP request through the real gateway into the real analytics service must give one
trace holding the gateway's span, the service's span and PostgreSQL's; a message through
the event bus (Kafka's mock cluster, and in process) keeps its trace; the instruments of
common/metrics.py record and reach the Prometheus exposition.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from analytics_svc import storage_metrics
from common import metrics, telemetry
from common.bus import BusMessage
from common.bus.inprocess import InProcessBus
from common.bus.kafka import KafkaBus
from common.logs import JsonFormatter
from tests.common.settled import settled
from tests.events import event_dict
from tests.kafka_mock import MockKafkaCluster


@pytest.fixture(scope="module")
def otel(settings):
    telemetry.setup("tests", settings)
    spans = InMemorySpanExporter()
    reader = InMemoryMetricReader()
    telemetry.add_span_exporter(spans)
    telemetry.add_metric_reader(reader)
    yield spans, reader
    spans.shutdown()  # later tests' spans are dropped, not kept in memory


@pytest.fixture
def spans(otel):
    exporter, _ = otel
    exporter.clear()
    return exporter


def points(reader: InMemoryMetricReader) -> dict[str, list]:
    """Metric name -> its data points (each with .attributes and .value or .sum/.count)."""
    found: dict[str, list] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


def in_trace(exporter: InMemorySpanExporter, trace_id: int) -> list:
    return [s for s in exporter.get_finished_spans() if s.context.trace_id == trace_id]


def descends_from(span, ancestor, by_id: dict) -> bool:
    while span.parent is not None:
        if span.parent.span_id == ancestor.context.span_id:
            return True
        span = by_id.get(span.parent.span_id)
        if span is None:
            return False
    return False


async def test_one_http_request_is_one_trace_from_gateway_to_postgresql(gateway_url, http, spans, caplog):
    body = event_dict()
    with caplog.at_level(logging.INFO, logger="rpc"):
        async with http.post(f"{gateway_url}/api/analytics/events", json=body) as response:
            assert response.status == 200, await response.text()
            trace_header = response.headers["X-Trace-Id"]
    await asyncio.sleep(0.1)  # the service's span ends as its reply leaves

    gateway = next(
        s
        for s in spans.get_finished_spans()
        if s.kind == SpanKind.SERVER and s.attributes.get("http.route") == "/api/analytics/events"
    )
    assert format(gateway.context.trace_id, "032x") == trace_header
    trace_spans = in_trace(spans, gateway.context.trace_id)
    by_id = {s.context.span_id: s for s in trace_spans}
    client = [s for s in trace_spans if s.kind == SpanKind.CLIENT and s.attributes.get("rpc.system")]
    service = [s for s in trace_spans if s.kind == SpanKind.SERVER and s.attributes.get("rpc.system")]
    database = [s for s in trace_spans if s.attributes.get("db.system") == "postgresql"]
    # The single event went in a merged batch call (gateway/merged_events.py), in this trace,
    # under a span that links the request it carries.
    assert [s.attributes["rpc.method"] for s in client] == ["RecordEvents"]
    merged = next(s for s in trace_spans if s.name == "merged events")
    assert client[0].parent.span_id == merged.context.span_id
    assert [link.context.span_id for link in merged.links] == [gateway.context.span_id]
    assert [s.attributes["rpc.service"] for s in service] == ["storyverse.analytics.v1.AnalyticsService"]
    assert service[0].parent.span_id == client[0].context.span_id  # continued over gRPC metadata
    assert service[0].attributes["rpc.grpc.status_code"] == 0
    assert database, f"no PostgreSQL span in {[s.name for s in trace_spans]}"
    assert any(s.attributes["db.operation"] in ("INSERT", "COPY") for s in database)
    assert all(descends_from(s, service[0], by_id) for s in database)

    # The service's log line of that call carries the same trace id, in the JSON too.
    record = next(r for r in caplog.records if r.name == "rpc" and "RecordEvent" in str(r.fields))
    assert record.otelTraceID == trace_header
    assert json.loads(JsonFormatter().format(record))["trace_id"] == trace_header


async def test_health_checks_and_background_queries_start_no_trace(gateway_url, http, db, spans):
    async def ready() -> int:
        async with http.get(f"{gateway_url}/readyz") as response:
            return response.status

    # Once the session's services' database probes settle (tests/common/settled.py).
    assert await settled(ready, lambda status: status == 200) == 200
    await db.fetchval("SELECT 1")
    assert spans.get_finished_spans() == ()


async def round_trip(bus, topic: str, group: str, timeout: float = 30.0) -> tuple[list[BusMessage], object]:
    received: list[BusMessage] = []
    arrived = asyncio.Event()

    async def handle(batch: list[BusMessage]) -> None:
        received.extend(batch)
        arrived.set()

    bus.subscribe(topic, group, handle)
    await bus.start()
    try:
        with telemetry.tracer.start_as_current_span("publisher") as publisher:
            await bus.publish(topic, [BusMessage(b"user-1", b"payload")])
        await asyncio.wait_for(arrived.wait(), timeout)
    finally:
        await bus.aclose()
    return received, publisher


def assert_consumed_in_trace(spans: InMemorySpanExporter, publisher, received: list[BusMessage]) -> None:
    trace_spans = in_trace(spans, publisher.get_span_context().trace_id)
    kinds = {s.kind for s in trace_spans}
    assert SpanKind.PRODUCER in kinds and SpanKind.CONSUMER in kinds, [s.name for s in trace_spans]
    assert received[0].headers["traceparent"].decode().split("-")[1] == format(
        publisher.get_span_context().trace_id, "032x"
    )


async def test_a_kafka_round_trip_keeps_the_trace(spans, otel):
    cluster = MockKafkaCluster(brokers=1)
    try:
        bus = KafkaBus(cluster.bootstrap, prefix=f"otel{uuid.uuid4().hex[:6]}.")
        received, publisher = await round_trip(bus, "analytics.events", "otel-test")
    finally:
        cluster.close()
    assert_consumed_in_trace(spans, publisher, received)
    handled = points(otel[1])["storyverse.bus.messages"]
    assert any(p.attributes.get("group") == "otel-test" and p.value >= 1 for p in handled)


async def test_an_in_process_round_trip_keeps_the_trace(spans):
    received, publisher = await round_trip(InProcessBus(), "analytics.events", "otel-inprocess")
    assert_consumed_in_trace(spans, publisher, received)


async def test_kafka_consumer_lag_is_measured_per_partition(otel, monkeypatch):
    import common.bus.kafka as kafka_module

    monkeypatch.setattr(kafka_module, "LAG_EVERY_SECONDS", 0)  # measured on every poll
    cluster = MockKafkaCluster(brokers=1)
    prefix = f"lag{uuid.uuid4().hex[:6]}."
    producer = KafkaBus(cluster.bootstrap, prefix=prefix)
    consumer = KafkaBus(cluster.bootstrap, prefix=prefix)
    release = asyncio.Event()

    async def slow(batch: list[BusMessage]) -> None:
        await release.wait()

    try:
        await producer.start()
        await producer.publish("lagging", [BusMessage(None, b"x") for _ in range(20)])
        consumer.subscribe("lagging", "lag-group", slow)
        await consumer.start()
        deadline = time.monotonic() + 20
        # The handler holds the first batch: nothing is committed, all 20 are lag.
        while sum(consumer.lag.values()) < 20 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert sum(consumer.lag.values()) == 20, consumer.lag
        release.set()
    finally:
        release.set()
        await consumer.aclose()
        await producer.aclose()
        cluster.close()
    lag = points(otel[1])["storyverse.bus.consumer.lag"]
    assert any(p.attributes["group"] == "lag-group" for p in lag)


async def test_messages_gone_before_a_group_read_them_are_logged_and_counted(otel, caplog):
    """A group down longer than the topic's retention loses the messages between its committed
    offset and the earliest one left; the consumer says so. The mock broker keeps ~5 MB a
    partition: 7 MB after the commit push the committed offset out."""
    from confluent_kafka import Consumer, Producer, TopicPartition

    cluster = MockKafkaCluster(brokers=1)
    bus = KafkaBus(cluster.bootstrap, prefix=f"gap{uuid.uuid4().hex[:6]}.")
    name = bus.topic_name("gone")
    raw = Producer({"bootstrap.servers": cluster.bootstrap})
    received: list[BusMessage] = []

    async def handle(batch: list[BusMessage]) -> None:
        received.extend(batch)

    try:
        for n in range(10):
            raw.produce(name, f"early-{n}".encode(), partition=0)
        raw.flush(10)
        earlier = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": "gap-group"})
        earlier.assign([TopicPartition(name, 0, 0)])
        earlier.commit(offsets=[TopicPartition(name, 0, 2)], asynchronous=False)  # handled 2, then down
        earlier.close()
        for _ in range(700):
            raw.produce(name, b"x" * 10_000, partition=0)
        raw.flush(10)
        caplog.set_level(logging.ERROR, logger="common.bus.kafka")
        bus.subscribe("gone", "gap-group", handle)
        await bus.start()
        deadline = time.monotonic() + 20
        while not received and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    finally:
        await bus.aclose()
        cluster.close()
    assert received and received[0].value == b"x" * 10_000  # the early ones were pruned
    gaps = [r for r in caplog.records if r.getMessage().startswith("kafka messages skipped")]
    assert len(gaps) == 1, caplog.records
    fields = gaps[0].fields
    assert fields["committed"] == 2 and fields["skipped"] == fields["first"] - 2 > 0
    counted = points(otel[1])["storyverse.bus.skipped"]
    assert [p.value for p in counted if p.attributes["group"] == "gap-group"] == [fields["skipped"]]


async def test_instruments_record_and_reach_prometheus(otel, gateway_url, http, db, analytics):
    _, reader = otel
    async with http.post(f"{gateway_url}/api/analytics/events:batch", json={"events": [event_dict()]}) as r:
        assert r.status == 200
    sizes = await storage_metrics.sample(db, storage_metrics.TABLES)
    assert sizes["events"] > 0

    found = points(reader)
    accepted = [p for p in found["storyverse.events.ingested"] if p.attributes["outcome"] == "accepted"]
    assert accepted and accepted[0].value >= 1
    assert any(p.attributes["rpc.method"].endswith("/RecordEvents") for p in found["rpc.server.duration"])
    assert any(
        p.attributes["http.route"] == "/api/analytics/events:batch"
        for p in found["http.server.request.duration"]
    )
    assert {p.attributes["table"] for p in found["storyverse.storage.bytes"]} >= {"events", "failed_events"}

    async with http.get(f"{gateway_url}/metrics") as response:
        assert response.status == 200
        text = await response.text()
    assert "storyverse_events_ingested_total" in text
    assert "rpc_server_duration_seconds_bucket" in text


async def test_rpc_counters_for_recommendations_and_feedback(otel, reco, feedback):
    import grpc
    from storyverse.feedback.v1 import feedback_service_pb2 as fb
    from storyverse.feedback.v1 import feedback_service_pb2_grpc as fb_grpc
    from storyverse.recommendation.v1 import recommendation_service_pb2 as rc
    from storyverse.recommendation.v1 import recommendation_service_pb2_grpc as rc_grpc

    async with grpc.aio.insecure_channel(f"127.0.0.1:{reco.port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError):
            await rc_grpc.RecommendationServiceStub(channel).Recommend(rc.RecommendRequest())
    async with grpc.aio.insecure_channel(f"127.0.0.1:{feedback.port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError):
            await fb_grpc.FeedbackServiceStub(channel).SubmitFeedback(fb.SubmitFeedbackRequest())
    # The server counts a call after its status went out: the client may be told first.
    for _ in range(50):
        found = points(otel[1])
        if "storyverse.reco.requests" in found and "storyverse.feedback.submitted" in found:
            break
        await asyncio.sleep(0.05)
    assert any(p.attributes["method"] == "Recommend" for p in found["storyverse.reco.requests"])
    assert sum(p.value for p in found["storyverse.feedback.submitted"]) >= 1


async def test_a_service_metrics_port_serves_prometheus_text(otel):
    import urllib.request

    from tests.conftest import free_port

    port = telemetry.serve_metrics("127.0.0.1", free_port())
    metrics.STORAGE_BYTES.set(1, {"table": "port-test"})
    text = await asyncio.to_thread(
        lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    )
    assert 'table="port-test"' in text
    assert telemetry.serve_metrics("127.0.0.1", port) == 0, "a taken port is a warning, not a crash"


async def test_redis_calls_are_spans_of_the_trace(spans):
    from reco_svc.features.redis import RedisFeatureStore
    from tests.common.redis_fixtures import NO_REDIS, delete_prefix, local_redis_url

    url = local_redis_url()
    if url is None:
        pytest.skip(NO_REDIS)
    prefix = f"sv:test:{uuid.uuid4().hex[:8]}:"
    store = RedisFeatureStore(url, timeout=1.0, prefix=prefix)
    try:
        with telemetry.tracer.start_as_current_span("request") as request:
            await store.push_recent("user-1", "story-1")
            assert await store.recent("user-1") == ["story-1"]
    finally:
        await store.aclose()
        await delete_prefix(url, prefix)
    redis_spans = [
        s
        for s in in_trace(spans, request.get_span_context().trace_id)
        if s.attributes.get("db.system") == "redis"
    ]
    assert [s.attributes["db.operation"] for s in redis_spans] == ["LPUSH", "LRANGE"]
    assert all(s.parent.span_id == request.get_span_context().span_id for s in redis_spans)


async def test_kafka_mode_ingestion_keeps_the_trace_down_to_the_processors_insert(
    spans, settings, db, analytics
):
    from analytics_svc.ingestion.processor import attach
    from analytics_svc.ingestion.writer import GroupCommitWriter
    from common.database import create_pool
    from tests.events import event

    cluster = MockKafkaCluster(brokers=1)
    bus = KafkaBus(cluster.bootstrap, prefix=f"proc{uuid.uuid4().hex[:6]}.")
    pool = await create_pool(settings)  # TracedConnection: the processor's own pool
    writer = GroupCommitWriter(pool)
    attach(bus, writer)
    sent = event()
    try:
        await bus.start()
        with telemetry.tracer.start_as_current_span("ingest") as ingest:
            await bus.publish(
                "analytics.events", [BusMessage(sent.user_id.encode(), sent.SerializeToString())]
            )
        deadline = time.monotonic() + 30
        while not await db.fetchval("SELECT count(*) FROM events WHERE event_id = $1", sent.event_id):
            assert time.monotonic() < deadline, "the processor did not store the event"
            await asyncio.sleep(0.1)
    finally:
        await bus.aclose()
        await writer.aclose()
        await pool.close()
        cluster.close()
    trace_spans = in_trace(spans, ingest.get_span_context().trace_id)
    by_id = {s.context.span_id: s for s in trace_spans}
    consumer = next(s for s in trace_spans if s.kind == SpanKind.CONSUMER)
    inserts = [s for s in trace_spans if s.attributes.get("db.system") == "postgresql"]
    assert inserts and all(descends_from(s, consumer, by_id) for s in inserts)
