"""Fixtures of the report tests: a stub on loopback, the ClickHouse store and a way to
record a stream."""

from __future__ import annotations

import pytest
from storyverse.analytics.v1 import analytics_service_pb2 as pb
from storyverse.analytics.v1 import analytics_service_pb2_grpc as pb_grpc

from tests.analytics.builder import Ev


@pytest.fixture(scope="session")
async def clickhouse(tmp_path_factory):
    """The ClickHouse event store on the embedded chDB engine: one engine per process, so
    one store for the session (tests keep to their own users and days)."""
    from analytics_svc.eventstore.clickhouse import ClickHouseEventStore

    events = await ClickHouseEventStore.open(
        path=tmp_path_factory.mktemp("clickhouse"), database="equivalence"
    )
    yield events
    await events.close()


@pytest.fixture
def stub(analytics_channel):
    return pb_grpc.AnalyticsServiceStub(analytics_channel)


async def record(stub, bus, analytics, events: list[Ev]) -> None:
    """Record through the real RPC, then let the bus subscribers (real-time counters,
    first-event table) catch up and flush, as they would within seconds."""
    for i in range(0, len(events), 1000):
        reply = await stub.RecordEvents(
            pb.RecordEventsRequest(events=[e.to_proto() for e in events[i : i + 1000]])
        )
        assert reply.result.rejected == 0, reply.result.rejections
    await bus.drain()
    await analytics.component.realtime.flush()
