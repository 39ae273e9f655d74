"""Test fixtures that start real things: PostgreSQL, gRPC servers on loopback.

PostgreSQL: with SV_TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres)
a fresh database is created on that server for the session and dropped after;
without it the embedded PostgreSQL is started (data in .data/test-pg, reused across
runs; each session still gets its own fresh database), as a user's machine would
run it. Not under pytest's tmp folders: pytest prunes old ones while other runs
may still use them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common.bus.inprocess import InProcessBus
from common.database import start_embedded
from common.grpc_server import RunningService, ServiceSpec, start
from common.settings import REPO_ROOT, Settings


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """The PostgreSQL server of the session, as its administrator."""
    return os.environ.get("SV_TEST_DATABASE_URL") or start_embedded(REPO_ROOT / ".data" / "test-pg")


async def _admin(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_url(pg_admin_url: str) -> Iterator[str]:
    name = f"sv_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_admin(pg_admin_url, f'CREATE DATABASE "{name}"'))
    yield _with_database(pg_admin_url, name)
    asyncio.run(_admin(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.asynccontextmanager
async def database_of_its_own(admin_url: str, label: str) -> AsyncIterator[str]:
    """A database on the session's server, dropped after."""
    name = f"sv_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await _admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(admin_url, name)
    finally:
        await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def own_database(pg_admin_url: str) -> AsyncIterator[str]:
    """A database of the test's own on the session's server, dropped after: for tests that read
    every table, or whose services register what the session's services must not see."""
    async with database_of_its_own(pg_admin_url, "own") as url:
        yield url


@pytest.fixture
async def service_databases(pg_admin_url: str) -> AsyncIterator[dict[str, str]]:
    """A database of its own for each service, {"analytics" | "reco" | "feedback": url}, as
    three Deployments with separate databases have them; dropped after."""
    async with contextlib.AsyncExitStack() as stack:
        yield {
            service: await stack.enter_async_context(database_of_its_own(pg_admin_url, service))
            for service in ("analytics", "reco", "feedback")
        }


def settings_for_tests(database_url: str, data_dir: Path) -> Settings:
    """The services' settings in tests, on this database."""
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        shutdown_grace_seconds=2.0,
        log_level="WARNING",
        # Erasure jobs done in about a second rather than ten (their passes and polls).
        erasure_poll_seconds=0.5,
        erasure_verify_seconds=1.0,
        # A loaded test machine (two cores, several servers per test) can keep a pooled
        # connection or a report busy past the product's 2 s fail-fast; the fault tests that
        # measure that fail-fast set the product's figures themselves.
        db_acquire_timeout_seconds=10.0,
        db_statement_timeout_seconds=10.0,
        # The same for the engine's wait on analytics for a child's experiment variant.
        reco_assignment_timeout_seconds=10.0,
    )


@pytest.fixture(scope="session")
def settings(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return settings_for_tests(pg_url, tmp_path_factory.mktemp("data"))


async def start_service(spec: ServiceSpec, settings: Settings, bus: InProcessBus) -> RunningService:
    return await start(spec, settings, 0, bus)


@contextlib.asynccontextmanager
async def running(spec: ServiceSpec, settings: Settings, bus: InProcessBus) -> AsyncIterator[RunningService]:
    """A service on a free loopback port for the block, stopped after."""
    service = await start_service(spec, settings, bus)
    try:
        yield service
    finally:
        await service.stop(grace=1)


def system_fixtures(scope: str) -> tuple:
    """The running system's fixtures at `scope`, over that scope's `settings` fixture: db, bus,
    analytics, reco (asking that analytics for experiment assignments), feedback,
    gateway_settings and gateway_url. The session's are below; a package on a database of
    its own (tests/reco/serving/conftest.py) takes a set of its own."""

    @pytest.fixture(scope=scope, name="db")
    async def db(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
        pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=4)
        yield pool
        await pool.close()

    @pytest.fixture(scope=scope, name="bus")
    async def bus() -> AsyncIterator[InProcessBus]:
        bus = InProcessBus()
        await bus.start()
        yield bus
        await bus.aclose()

    @pytest.fixture(scope=scope, name="analytics")
    async def analytics(settings: Settings, bus: InProcessBus) -> AsyncIterator[RunningService]:
        from analytics_svc.service import SPEC

        async with running(SPEC, settings, bus) as service:
            yield service

    @pytest.fixture(scope=scope, name="reco")
    async def reco(
        settings: Settings, bus: InProcessBus, analytics: RunningService
    ) -> AsyncIterator[RunningService]:
        from reco_svc.service import SPEC

        asking = replace(settings, analytics_target=f"127.0.0.1:{analytics.port}")
        async with running(SPEC, asking, bus) as service:
            yield service

    @pytest.fixture(scope=scope, name="feedback")
    async def feedback(settings: Settings, bus: InProcessBus) -> AsyncIterator[RunningService]:
        from feedback_svc.service import SPEC

        async with running(SPEC, settings, bus) as service:
            yield service

    @pytest.fixture(scope=scope, name="gateway_settings")
    def gateway_settings(settings: Settings, analytics, reco, feedback) -> Settings:
        """Settings of a gateway in front of these services."""
        return replace(
            settings,
            analytics_target=f"127.0.0.1:{analytics.port}",
            reco_target=f"127.0.0.1:{reco.port}",
            feedback_target=f"127.0.0.1:{feedback.port}",
        )

    @pytest.fixture(scope=scope, name="gateway_url")
    async def gateway_url(gateway_settings: Settings) -> AsyncIterator[str]:
        """The real gateway app on loopback, in front of the real services."""
        server = gateway_server(gateway_settings)
        await server.start_server()
        yield str(server.make_url("")).rstrip("/")
        await server.close()

    return db, bus, analytics, reco, feedback, gateway_settings, gateway_url


db, bus, analytics, reco, feedback, gateway_settings, gateway_url = system_fixtures("session")


@pytest.fixture
async def analytics_channel(analytics: RunningService) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{analytics.port}") as channel:
        yield channel


def gateway_server(settings: Settings):
    """The gateway as `python -m gateway` serves it (its runner, its connection handler), on a
    free loopback port; start it with `await server.start_server()`."""
    from aiohttp.test_utils import TestServer

    from gateway.app import create_app
    from gateway.protocol import GatewayRunner

    class GatewayTestServer(TestServer):
        async def _make_runner(self, **kwargs):
            return GatewayRunner(self.app, **kwargs)

    # handler_cancellation: a client that goes away cancels its handler (and the gRPC call).
    return GatewayTestServer(create_app(settings), host="127.0.0.1", handler_cancellation=True)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@contextlib.contextmanager
def fresh_database(settings: Settings, label: str) -> Iterator[str]:
    """A database of its own on the test server (dropped after): for tests whose processes
    must not see, or be seen by, the session's services (model registry, metrics)."""
    name = f"sv_test_{label}_{uuid.uuid4().hex[:8]}"
    admin_url = _with_database(settings.database_url or "", "postgres")
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(admin_url, name)
    finally:
        asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n: int) -> list[int]:
    """n distinct free ports (all held open while choosing, so none is picked twice)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def two_free_ports() -> int:
    """A port p with p + 1 free too (a supervisor's worker i serves /metrics on SV_METRICS_PORT + i)."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            with socket.socket() as b:
                try:
                    b.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise RuntimeError("no two consecutive free ports")


def service_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment for running one of our processes as a subprocess against the test database."""
    env = {**os.environ, "SV_DATABASE_URL": settings.database_url or "", "SV_LOG_LEVEL": "WARNING"}
    env.update({f"SV_{k.upper()}": str(v) for k, v in extra.items()})
    return env


def spawn(module: str, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    log = log_path.open("wb")
    return subprocess.Popen([sys.executable, "-m", module], cwd=REPO_ROOT, env=env, stdout=log, stderr=log)


def stop(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited within timeout."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_serving(target: str, service: str = "", timeout: float = 30.0) -> None:
    """Block until the gRPC health service at target reports SERVING for service."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError as exc:
                last_error = exc
            time.sleep(0.1)
    raise TimeoutError(f"{target} did not become SERVING: {last_error}")
