"""Artifacts in PostgreSQL (table artifact_objects, bytea): for small models, where the
database is already the one store every process of a deployment shares.

One row per key; a write replaces the row in one statement, so readers see the old bytes
or the new ones. bytea holds up to 1 GiB, but every read moves the whole value through one
connection: above MAX_BYTES, use S3. The table comes from this package's own migration,
applied on first use (training jobs and services alike).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from common.artifacts.base import ArtifactUnavailable
from common.migrations import apply_migrations

MIGRATIONS = Path(__file__).parent / "sql"
MAX_BYTES = 256 * 2**20
# A transfer of MAX_BYTES takes seconds: longer than the pool's per-statement default.
TRANSFER_SECONDS = 120.0
SCHEME = "postgresql"


class PostgresStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._ready = False
        self._lock = asyncio.Lock()

    def location(self, key: str) -> str:
        # No host: "this deployment's database", whichever URL a process reaches it by.
        return f"{SCHEME}:{key}"

    async def _migrate(self) -> None:
        async with self._lock:
            if not self._ready:
                await apply_migrations(self.pool, "artifacts", MIGRATIONS)
                self._ready = True

    async def write(self, key: str, data: bytes) -> None:
        if len(data) > MAX_BYTES:
            raise ValueError(
                f"{len(data)} bytes is more than PostgreSQL artifacts hold ({MAX_BYTES}): use S3"
            )
        await self._migrate()
        async with self.pool.acquire(timeout=TRANSFER_SECONDS) as conn, conn.transaction():
            await conn.execute(f"SET LOCAL statement_timeout = '{int(TRANSFER_SECONDS)}s'")
            await conn.execute(
                """INSERT INTO artifact_objects (key, data, size) VALUES ($1, $2, $3)
                   ON CONFLICT (key) DO UPDATE
                   SET data = EXCLUDED.data, size = EXCLUDED.size, written_at = now()""",
                key,
                data,
                len(data),
                timeout=TRANSFER_SECONDS,
            )

    async def read(self, key: str) -> bytes:
        try:
            await self._migrate()
            async with self.pool.acquire(timeout=TRANSFER_SECONDS) as conn, conn.transaction():
                await conn.execute(f"SET LOCAL statement_timeout = '{int(TRANSFER_SECONDS)}s'")
                data = await conn.fetchval(
                    "SELECT data FROM artifact_objects WHERE key = $1", key, timeout=TRANSFER_SECONDS
                )
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
            raise ArtifactUnavailable(f"{self.location(key)}: {exc!r}") from exc
        if data is None:
            raise ArtifactUnavailable(f"{self.location(key)}: no such artifact")
        return data

    async def aclose(self) -> None:
        return None  # the pool belongs to the caller
