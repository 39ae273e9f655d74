"""Versioned SQL migrations, applied at start-up and safe to re-run.

Each service keeps its files in `<service>/migrations/NNNN_name.sql`. They run in
order, each in its own transaction, under a PostgreSQL advisory lock so that
replicas starting together apply each file exactly once.

    await apply_migrations(pool, "analytics", Path("analytics_svc/migrations"))
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)
_LOCK_KEY = 0x5709_17E5  # any constant shared by all replicas
# Waiting for another replica's migrations, or building an index on a large table, takes
# longer than the pool's per-command default (common/database.py).
MIGRATION_SECONDS = 3600.0


async def apply_migrations(pool: asyncpg.Pool, component: str, folder: Path) -> list[str]:
    files = sorted(Path(folder).glob("[0-9][0-9][0-9][0-9]_*.sql"))
    applied_now: list[str] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY, timeout=MIGRATION_SECONDS)
        try:
            await conn.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       component text NOT NULL,
                       version text NOT NULL,
                       checksum text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now(),
                       PRIMARY KEY (component, version))"""
            )
            done = {
                r["version"]: r["checksum"]
                for r in await conn.fetch(
                    "SELECT version, checksum FROM schema_migrations WHERE component = $1", component
                )
            }
            for path in files:
                sql = path.read_text()
                checksum = hashlib.sha256(sql.encode()).hexdigest()
                if path.stem in done:
                    if done[path.stem] != checksum:
                        log.warning("applied migration changed since", extra={"fields": {"file": str(path)}})
                    continue
                async with conn.transaction():
                    await conn.execute(sql, timeout=MIGRATION_SECONDS)
                    await conn.execute(
                        "INSERT INTO schema_migrations (component, version, checksum) VALUES ($1, $2, $3)",
                        component,
                        path.stem,
                        checksum,
                    )
                applied_now.append(path.stem)
                log.info(
                    "migration applied", extra={"fields": {"component": component, "version": path.stem}}
                )
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return applied_now
