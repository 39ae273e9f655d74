"""Run one of our gRPC services: health, reflection, interceptors, graceful shutdown.

    async def build(server, runtime) -> Component: ...   # registers servicers
    asyncio.run(serve([ServiceSpec("analytics", build, migrations)], settings))

Health: the standard grpc.health.v1 service reports SERVING for "" and for each of
the component's services only while its PostgreSQL answers, and NOT_SERVING from the
moment shutdown starts; "storyverse.liveness" is SERVING while the process runs (for
liveness probes). Reflection lists every service for grpcurl.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import asyncpg
import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from common import telemetry
from common.bus import EventBus, create_bus
from common.database import create_pool, database_url
from common.gc_tuning import tune_for_serving
from common.guards import build_guards
from common.interceptors import CallObserver, ServiceInterceptor
from common.migrations import apply_migrations
from common.periodic import Periodic
from common.reflection import enable_reflection
from common.settings import Settings
from common.telemetry_grpc import ServerTelemetry
from common.tls import server_credentials

log = logging.getLogger(__name__)
HEALTH_PROBE_SECONDS = 2.0
# Always SERVING while the process runs (until shutdown): Kubernetes liveness asks this
# one, so a PostgreSQL outage makes pods unready, not restarted.
LIVENESS = "storyverse.liveness"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
# Tables every service relies on: API keys, erasure records (common/sql).
COMMON_MIGRATIONS = Path(__file__).parent / "sql"


class Component(Protocol):
    """What a service's build function returns: its gRPC service names, what is told of each
    call it serves (method, status code name, seconds), and a closer."""

    service_names: list[str]
    observers: Sequence[CallObserver]

    async def aclose(self) -> None: ...


@dataclass
class Runtime:
    """What a service gets to build itself: its pool, the settings and the shared bus."""

    pool: asyncpg.Pool
    settings: Settings
    bus: EventBus


@dataclass
class ServiceSpec:
    name: str
    build: Callable[[grpc.aio.Server, Runtime], Awaitable[Component]]
    migrations: list[tuple[str, Path]] = field(default_factory=list)


@dataclass
class RunningService:
    server: grpc.aio.Server
    port: int
    pool: asyncpg.Pool
    component: Component
    health: health.aio.HealthServicer
    probe: Periodic
    settings: Settings

    async def stop(self, grace: float | None = None) -> None:
        """Stop accepting calls, let in-flight ones finish within the grace period, release everything."""
        await self.stop_serving(grace)
        await self.release()

    async def stop_serving(self, grace: float | None = None) -> None:
        await self.health.enter_graceful_shutdown()
        await self.probe.stop()
        await self.server.stop(self.settings.shutdown_grace_seconds if grace is None else grace)

    async def release(self) -> None:
        await self.component.aclose()
        await self.pool.close()


async def start(
    spec: ServiceSpec, settings: Settings, port: int, bus: EventBus, reuse_port: bool = False
) -> RunningService:
    """Start the service on host:port (port 0 picks a free one) and return a handle.
    reuse_port: share the port with the other workers of a supervisor (common/workers.py);
    off otherwise, so that a second service started on a taken port fails instead of
    silently taking half of its connections."""
    pool = await create_pool(settings, database_url(settings))
    for component, folder in [("common", COMMON_MIGRATIONS), *spec.migrations]:
        await apply_migrations(pool, component, folder)
    interceptor = ServiceInterceptor(guards=build_guards(settings, pool))
    server = grpc.aio.server(
        interceptors=[ServerTelemetry(), interceptor],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", int(reuse_port)),
        ],
    )
    component = await spec.build(server, Runtime(pool, settings, bus))
    interceptor.observers = list(component.observers)  # before the server takes its first call
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [*component.service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name]
    enable_reflection(names, server)
    credentials = server_credentials(settings)
    address = f"{settings.host}:{port}"
    bound = server.add_secure_port(address, credentials) if credentials else server.add_insecure_port(address)
    await server.start()
    probe = _database_probe(pool, health_servicer, ["", *component.service_names])
    await _set_all(health_servicer, ["", *component.service_names], await _database_answers(pool))
    await health_servicer.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
    log.info(
        "gRPC service started",
        extra={"fields": {"service": spec.name, "address": f"{settings.host}:{bound}"}},
    )
    return RunningService(server, bound, pool, component, health_servicer, probe, settings)


async def serve(specs: list[tuple[ServiceSpec, int]], settings: Settings, reuse_port: bool = False) -> None:
    """Run one or more services (each on its own port) in this process until SIGTERM
    or SIGINT, sharing one event bus, then shut them down gracefully."""
    telemetry.setup("-".join(spec.name for spec, _ in specs), settings)
    if settings.metrics_port:
        telemetry.serve_metrics(settings.host, settings.metrics_port)
    bus = create_bus(settings)
    running = [await start(spec, settings, port, bus, reuse_port) for spec, port in specs]
    await bus.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tune_for_serving()
    for (spec, _), service in zip(specs, running, strict=True):
        print(f"{spec.name} gRPC service listening on {settings.host}:{service.port}", flush=True)
    await stop.wait()
    log.info("shutting down", extra={"fields": {"services": [s.name for s, _ in specs]}})
    await asyncio.gather(*(service.stop_serving() for service in running))
    # Drain the bus before closing pools: queued messages still need the database.
    await bus.aclose()
    await asyncio.gather(*(service.release() for service in running))


@dataclass
class HealthOnly:
    """The health service alone, for a process that serves no RPCs (the analytics processor)."""

    server: grpc.aio.Server
    servicer: health.aio.HealthServicer
    probe: Periodic
    port: int

    async def stop(self, grace: float) -> None:
        await self.servicer.enter_graceful_shutdown()
        await self.probe.stop()
        await self.server.stop(grace)


async def serve_health(pool: asyncpg.Pool, host: str, port: int) -> HealthOnly:
    """grpc.health.v1 on host:port: "" SERVING while PostgreSQL answers (readiness), LIVENESS
    while the process runs, as every service reports them; Kubernetes probes ask it."""
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    bound = server.add_insecure_port(f"{host}:{port}")
    await server.start()
    await _set_all(servicer, [""], await _database_answers(pool))
    await servicer.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
    probe = _database_probe(pool, servicer, [""])
    return HealthOnly(server, servicer, probe, bound)


async def _database_answers(pool: asyncpg.Pool) -> bool:
    try:
        async with asyncio.timeout(HEALTH_PROBE_SECONDS):
            return await pool.fetchval("SELECT 1") == 1
    except Exception:  # noqa: BLE001 - any failure means "not serving"
        return False


async def _set_all(servicer: health.aio.HealthServicer, names: list[str], ok: bool) -> None:
    status = health_pb2.HealthCheckResponse.SERVING if ok else health_pb2.HealthCheckResponse.NOT_SERVING
    for name in names:
        await servicer.set(name, status)


def _database_probe(pool: asyncpg.Pool, servicer: health.aio.HealthServicer, names: list[str]) -> Periodic:
    """Started: the names follow PostgreSQL's answer, checked every HEALTH_PROBE_SECONDS."""
    previous = None

    async def probe() -> None:
        nonlocal previous
        ok = await _database_answers(pool)
        if ok != previous:
            await _set_all(servicer, names, ok)
            if previous is not None:
                log.warning("database health changed", extra={"fields": {"serving": ok}})
            previous = ok

    task = Periodic("database health probe", probe, HEALTH_PROBE_SECONDS, first_after=0)
    task.start()
    return task
