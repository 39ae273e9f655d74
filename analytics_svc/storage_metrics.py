"""Storage utilization: the on-disk size of the tables analytics owns, sampled periodically.

    sampler = start_sampler(pool, settings)   # None when SV_STORAGE_SAMPLE_SECONDS <= 0
    ...
    await sampler.stop()

pg_total_relation_size counts the table, its indexes and its TOAST data. It reads file
sizes only (no scan), so a sample a minute costs nothing measurable.
"""

from __future__ import annotations

import asyncpg

from common import metrics
from common.periodic import Periodic
from common.settings import Settings

# The tables that grow with traffic; one service samples them, so each series is unique.
TABLES = ("events", "failed_events")
QUERY = """
SELECT t AS name, pg_total_relation_size(to_regclass(t)) AS bytes
FROM unnest($1::text[]) AS t
WHERE to_regclass(t) IS NOT NULL
"""


async def sample(pool: asyncpg.Pool, tables: tuple[str, ...] = TABLES) -> dict[str, int]:
    rows = await pool.fetch(QUERY, list(tables))
    sizes = {row["name"]: int(row["bytes"]) for row in rows}
    for table, size in sizes.items():
        metrics.STORAGE_BYTES.set(size, {"table": table})
    return sizes


def start_sampler(pool: asyncpg.Pool, settings: Settings) -> Periodic | None:
    if settings.storage_sample_seconds <= 0:
        return None
    sampler = Periodic("storage sample", lambda: sample(pool), settings.storage_sample_seconds, first_after=0)
    sampler.start()
    return sampler
