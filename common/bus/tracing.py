"""Trace context through the event bus, the same for Kafka and in process.

    with publishing("analytics.events", "kafka", len(messages)) as headers:    # producer side
        messages = [with_headers(m, headers) for m in messages]
    with consuming("analytics.events", "reco", batch, "kafka", oldest=t0):     # consumer side
        await handler(batch)

The W3C `traceparent` (and `tracestate`) travel as message headers. A batch is handled
in a CONSUMER span whose parent is the first message's trace (so a publish → handle
round trip stays one trace) and which links the other messages' traces. The handled
count and the publish → handled latency of the batch's oldest message are recorded too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from common import metrics, telemetry
from common.bus.base import BusMessage
from common.telemetry import MAX_LINKS, tracer


class _HeaderGetter:
    def get(self, carrier: dict[str, bytes], key: str) -> list[str] | None:
        value = carrier.get(key)
        return [value.decode(errors="replace") if isinstance(value, bytes) else value] if value else None

    def keys(self, carrier: dict[str, bytes]) -> list[str]:
        return list(carrier)


_GETTER = _HeaderGetter()


@contextmanager
def publishing(topic: str, system: str, count: int) -> Iterator[dict[str, bytes]]:
    """A PRODUCER span (inside a recorded trace) and the headers that carry it to consumers."""
    span_cm = None
    if trace.get_current_span().is_recording():
        span_cm = tracer.start_as_current_span(
            f"{topic} publish",
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": system,
                "messaging.destination.name": topic,
                "messaging.batch.message_count": count,
            },
        )
        span_cm.__enter__()
    try:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)  # also unsampled contexts: logs downstream keep the trace id
        yield {key: value.encode() for key, value in carrier.items()}
    finally:
        if span_cm is not None:
            span_cm.__exit__(None, None, None)


def with_headers(message: BusMessage, headers: dict[str, bytes]) -> BusMessage:
    if not headers:
        return message
    return BusMessage(message.key, message.value, {**message.headers, **headers}, message.topic)


@contextmanager
def consuming(
    topic: str, group: str, batch: list[BusMessage], system: str, oldest: float | None = None
) -> Iterator[None]:
    """Handle a batch in a CONSUMER span; `oldest` is the earliest publish time (epoch seconds)."""
    spans = [trace.get_current_span(propagate.extract(m.headers, getter=_GETTER)) for m in batch[:MAX_LINKS]]
    outcome = "error"
    with telemetry.joined_span(
        f"{topic} process",
        [span.get_span_context() for span in spans],
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": system,
            "messaging.destination.name": topic,
            "messaging.consumer.group.name": group,
            "messaging.batch.message_count": len(batch),
        },
    ):
        try:
            yield
            outcome = "ok"
        finally:
            labels = {"topic": topic, "group": group}
            metrics.BUS_MESSAGES.add(len(batch), {**labels, "outcome": outcome})
            if oldest is not None:
                metrics.BUS_PROCESSING_LATENCY.record(max(0.0, time.time() - oldest), labels)
