"""Storage utilization: the on-disk size of the tables a service owns, sampled periodically.

    task = start_sampler("analytics", pool, settings)   # None when the service owns no table
    ...
    task.cancel()

pg_total_relation_size counts the table, its indexes and its TOAST data. It reads file
sizes only (no scan), so a sample a minute costs nothing measurable.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from common import metrics
from common.settings import Settings

log = logging.getLogger(__name__)
# Which service samples which tables: one sampler per table keeps the series unique.
TABLES = {"analytics": ("events", "failed_events")}
QUERY = """
SELECT t AS name, pg_total_relation_size(to_regclass(t)) AS bytes
FROM unnest($1::text[]) AS t
WHERE to_regclass(t) IS NOT NULL
"""


async def sample(pool: asyncpg.Pool, tables: tuple[str, ...]) -> dict[str, int]:
    rows = await pool.fetch(QUERY, list(tables))
    sizes = {row["name"]: int(row["bytes"]) for row in rows}
    for table, size in sizes.items():
        metrics.STORAGE_BYTES.set(size, {"table": table})
    return sizes


def start_sampler(service: str, pool: asyncpg.Pool, settings: Settings) -> asyncio.Task | None:
    tables = TABLES.get(service)
    if not tables or settings.storage_sample_seconds <= 0:
        return None
    return asyncio.create_task(_run(pool, tables, settings.storage_sample_seconds), name="storage-sampler")


async def _run(pool: asyncpg.Pool, tables: tuple[str, ...], every: float) -> None:
    while True:
        try:
            await sample(pool, tables)
        except Exception as exc:  # noqa: BLE001 - a missed sample is not worth stopping for
            log.debug("storage sample failed", extra={"fields": {"error": repr(exc)}})
        await asyncio.sleep(every)
