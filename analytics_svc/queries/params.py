"""Numbering bind parameters while SQL text is assembled from fixed fragments."""

from __future__ import annotations

from common.database import long_statement_timeout, while_server_answers


class Binds:
    """Collects values and hands out their placeholders: `binds.add(value)` → "$3"."""

    def __init__(self) -> None:
        self.values: list[object] = []

    def add(self, value: object, cast: str = "") -> str:
        self.values.append(value)
        placeholder = f"${len(self.values)}"
        return f"{placeholder}::{cast}" if cast else placeholder


def dims_filter(binds: Binds, filters, prefix: str = "") -> str:
    """WHERE fragment for the age_group/platform/device_type filters on columns holding ''
    for "unknown" (rollups) or NULL (raw events); an empty filter matches everything."""
    parts = []
    for column in ("age_group", "platform", "device_type"):
        value = getattr(filters, column)
        if value:
            parts.append(f"{prefix}{column} = {binds.add(value, 'text')}")
    return " AND ".join(parts) if parts else "TRUE"


# The breakdown property of an event as SQL (values from a fixed set, never user text).
# An event lists several universes; a breakdown by universe uses the first one.
BREAKDOWN_SQL = {
    "": "''::text",
    "age_group": "coalesce(age_group, '')",
    "platform": "coalesce(platform, '')",
    "device_type": "coalesce(device_type, '')",
    "event_type": "event_type",
    "feature": "coalesce(feature, '')",
    "theme": "coalesce(theme, '')",
    "universe": "coalesce(universes[1], '')",
}


def analytical_settings(work_mem: str = "256MB", nested_loops: bool = True) -> str:
    """The SET LOCALs of an analytical query: its sorts and hashes in memory, and no JIT
    compilation, which costs ~0.5-3 s on these plans and saves less (measured on the
    benchmark). `nested_loops=False` for joins of many users against their events: with
    fresh statistics (a bulk load not yet analyzed) the planner guesses one user and loops
    over every event per user; there is no index by user, so a hash join is always right."""
    sets = f"SET LOCAL work_mem = '{work_mem}'; SET LOCAL jit = off"
    return sets if nested_loops else sets + "; SET LOCAL enable_nestloop = off"


async def fetch_analytical(
    pool, sql: str, *values, work_mem: str = "256MB", nested_loops: bool = True
) -> list:
    """Run one analytical query under `analytical_settings`. Over raw events it may take
    seconds: it gets the pool's long-statement timeout."""
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        await conn.execute(analytical_settings(work_mem, nested_loops))
        query = conn.fetch(sql, *values, timeout=long_statement_timeout(pool))
        return await while_server_answers(pool, conn, query)
