"""Wiring of the analytics service: what it is made of and how it is registered."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import grpc
from storyverse.analytics.v1 import analytics_service_pb2, analytics_service_pb2_grpc

from analytics_svc.recorder import EventRecorder
from analytics_svc.server import AnalyticsServicer
from analytics_svc.writer import GroupCommitWriter
from common.grpc_server import Runtime, ServiceSpec
from common.privacy import admin

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = analytics_service_pb2.DESCRIPTOR.services_by_name["AnalyticsService"].full_name


@dataclass
class AnalyticsComponent:
    writer: GroupCommitWriter
    service_names: list[str] = field(default_factory=lambda: [SERVICE_NAME])

    async def aclose(self) -> None:
        await self.writer.aclose()


async def build(server: grpc.aio.Server, runtime: Runtime) -> AnalyticsComponent:
    writer = GroupCommitWriter(
        runtime.pool,
        max_rows=runtime.settings.ingest_max_group,
        max_pending_rows=runtime.settings.ingest_max_pending_rows,
    )
    recorder = EventRecorder(runtime.pool, runtime.bus, bool(runtime.settings.kafka_bootstrap), writer)
    analytics_service_pb2_grpc.add_AnalyticsServiceServicer_to_server(AnalyticsServicer(recorder), server)
    # The admin RPCs (erasure) live here: this process owns the shared database.
    admin_name = admin.register(server, runtime)
    return AnalyticsComponent(writer, [SERVICE_NAME, admin_name])


SPEC = ServiceSpec("analytics", build, migrations=[("analytics", MIGRATIONS)])
