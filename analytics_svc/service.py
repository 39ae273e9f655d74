"""Wiring of the analytics service: what it is made of and how it is registered."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import grpc
from storyverse.analytics.v1 import (
    analytics_service_pb2,
    analytics_service_pb2_grpc,
    experiments_pb2,
    experiments_pb2_grpc,
)

from analytics_svc.churn.job import ChurnJob
from analytics_svc.erasure import erasure_steps
from analytics_svc.eventstore.base import EventStore
from analytics_svc.eventstore.choose import open_event_store
from analytics_svc.experiments.server import ExperimentServicer
from analytics_svc.ingestion.recorder import EventRecorder
from analytics_svc.ingestion.writer import EventStoreWriter, GroupCommitWriter
from analytics_svc.reports.performance import RpcStats
from analytics_svc.reports.realtime import RealtimeCounters
from analytics_svc.schema import MIGRATIONS
from analytics_svc.server import AnalyticsServicer
from analytics_svc.storage_metrics import start_sampler
from common.grpc_server import Runtime, ServiceSpec
from common.interceptors import CallObserver
from common.periodic import Periodic
from common.privacy import admin
from common.privacy.participant import ErasureParticipant

SERVICE_NAME = analytics_service_pb2.DESCRIPTOR.services_by_name["AnalyticsService"].full_name
EXPERIMENT_SERVICE_NAME = experiments_pb2.DESCRIPTOR.services_by_name["ExperimentService"].full_name


@dataclass
class AnalyticsComponent:
    writer: GroupCommitWriter | EventStoreWriter
    realtime: RealtimeCounters
    rpc_stats: RpcStats
    privacy: ErasureParticipant
    storage: Periodic | None
    events: EventStore
    churn: ChurnJob | None = None
    service_names: list[str] = field(default_factory=lambda: [SERVICE_NAME, EXPERIMENT_SERVICE_NAME])

    @property
    def observers(self) -> list[CallObserver]:
        return [self.rpc_stats.observe]  # the performance report counts every call

    async def aclose(self) -> None:
        if self.storage is not None:
            await self.storage.stop()
        if self.churn is not None:
            await self.churn.stop()
        await self.privacy.aclose()
        await self.writer.aclose()
        await self.realtime.aclose()
        await self.rpc_stats.aclose()
        await self.events.close()


async def build(server: grpc.aio.Server, runtime: Runtime) -> AnalyticsComponent:
    # Raw events: PostgreSQL (the group-commit writer) or ClickHouse (SV_ANALYTICS_STORE).
    events = await open_event_store(runtime.settings, runtime.pool)
    if events.name == "postgres":
        writer = GroupCommitWriter(
            runtime.pool,
            max_rows=runtime.settings.ingest_max_group,
            max_pending_rows=runtime.settings.ingest_max_pending_rows,
        )
    else:
        writer = EventStoreWriter(runtime.pool, events)
    via_kafka = bool(runtime.settings.kafka_bootstrap)
    # Right to erasure (docs/security.md): the tables this service owns, its memory, the tombstones.
    privacy = ErasureParticipant(runtime.pool, runtime.bus, runtime.settings, "analytics")
    realtime = RealtimeCounters(runtime.pool, tombstones=privacy.tombstones)
    privacy.add(steps=erasure_steps(runtime.pool, events), forget=[realtime.forget])
    if via_kafka:
        realtime.attach(runtime.bus)  # the processor stores; count what the topic delivers
    realtime.start()
    # Direct mode: the counters get the committed rows themselves, no bus round trip.
    recorder = EventRecorder(
        runtime.pool,
        runtime.bus,
        via_kafka,
        writer,
        on_stored=[] if via_kafka else [realtime.count_rows],
        tombstones=privacy.tombstones,
    )
    servicer = AnalyticsServicer(recorder, runtime.pool, events)
    analytics_service_pb2_grpc.add_AnalyticsServiceServicer_to_server(servicer, server)
    experiments_pb2_grpc.add_ExperimentServiceServicer_to_server(
        ExperimentServicer(runtime.pool, recorder), server
    )
    # The admin RPCs (erasure) live here: this process owns the shared database.
    admin_name = admin.register(server, runtime)
    rpc_stats = RpcStats(runtime.pool)
    rpc_stats.start()
    await privacy.start()
    storage = start_sampler(runtime.pool, runtime.settings)  # the size of the tables it owns
    # Predicted retention, retrained on the schedule from the event store's daily activity.
    churn = ChurnJob(
        runtime.pool,
        events,
        privacy.tombstones,
        timedelta(hours=runtime.settings.churn_train_every_hours or 24),
    )
    if runtime.settings.churn_train_every_hours > 0:
        churn.start()
    return AnalyticsComponent(
        writer,
        realtime,
        rpc_stats,
        privacy,
        storage,
        events,
        churn,
        [SERVICE_NAME, EXPERIMENT_SERVICE_NAME, admin_name],
    )


SPEC = ServiceSpec("analytics", build, migrations=[("analytics", MIGRATIONS)])
