"""SQL of educational goals (reco_goals, migrations/0003); parameters only."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

# Every replica listens: a child's goals changed (the payload is the user id), drop the cached ones.
CHANGED_CHANNEL = "reco_goals_changed"


async def goals_of(pool: asyncpg.Pool, user_id: str) -> list[str]:
    rows = await pool.fetch("SELECT goal FROM reco_goals WHERE user_id = $1 ORDER BY set_at, goal", user_id)
    return [r["goal"] for r in rows]


async def replace_goals(pool: asyncpg.Pool, user_id: str, goals: Sequence[str]) -> None:
    """The child's goals become exactly these (in one transaction: readers see before or after)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "DELETE FROM reco_goals WHERE user_id = $1 AND goal <> ALL($2::text[])", user_id, goals
        )
        await conn.executemany(
            "INSERT INTO reco_goals (user_id, goal, set_at) VALUES ($1, $2, clock_timestamp()) "
            "ON CONFLICT (user_id, goal) DO NOTHING",
            [(user_id, g) for g in goals],
        )
        await conn.execute("SELECT pg_notify($1, $2)", CHANGED_CHANNEL, user_id)  # sent on COMMIT


async def clear_goals(pool: asyncpg.Pool, user_id: str) -> int:
    async with pool.acquire() as conn, conn.transaction():
        status = await conn.execute("DELETE FROM reco_goals WHERE user_id = $1", user_id)
        await conn.execute("SELECT pg_notify($1, $2)", CHANGED_CHANNEL, user_id)
    return int(status.rsplit(" ", 1)[1])


async def goal_counts(pool: asyncpg.Pool) -> tuple[int, dict[str, int]]:
    """Children with goals, and children per goal (the dashboard's figures; no user id leaves
    the query)."""
    async with pool.acquire() as conn:
        children = await conn.fetchval("SELECT count(DISTINCT user_id) FROM reco_goals")
        rows = await conn.fetch(
            "SELECT goal, count(*) AS n FROM reco_goals GROUP BY goal ORDER BY n DESC, goal"
        )
    return children, {r["goal"]: r["n"] for r in rows}
