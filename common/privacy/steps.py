"""Erasure steps: what a service removes of one user from one store.

    steps = [table_step(pool, "events", "user_id = $1"), ErasureStep("reco_features", "Redis ...", run)]
    ErasureParticipant(pool, bus, settings, "analytics", steps)     # participant.py runs them

A step's `run(user_id)` removes everything of the user from its store and returns how many
items went (rows, keys). It must be idempotent (it runs again in every verifying pass) and
raise when it could not do its work: the job then retries it until it succeeds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

# An erasure may scan a large table (events has no index on user_id, for ingestion's sake):
# its statements get more time than serving calls do.
STATEMENT_TIMEOUT = "15min"
CLIENT_TIMEOUT_SECONDS = 15 * 60 + 5


@dataclass(frozen=True)
class ErasureStep:
    # Unique over the system: the job tracks it by this name; also the key of the rows/keys
    # count in DeleteUserDataResponse.deleted (table names for tables).
    name: str
    # Where, in words, for the status and the docs: "PostgreSQL events".
    store: str
    run: Callable[[str], Awaitable[int]]


def table_step(pool: asyncpg.Pool, table: str, condition: str, name: str | None = None) -> ErasureStep:
    """DELETE FROM table WHERE condition ($1 is the user id)."""

    async def run(user_id: str) -> int:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'")
            return await delete_where(conn, table, condition, user_id)

    return ErasureStep(name or table, f"PostgreSQL {table}", run)


async def delete_where(conn: asyncpg.Connection, table: str, condition: str, *args: object) -> int:
    """DELETE FROM table WHERE condition; the number of rows, 0 when the table is not there
    (a service whose tables are not created yet has nothing to erase)."""
    if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table):
        return 0
    # The client-side bound too: the pool's command timeout is a serving call's (common/database.py).
    status = await conn.execute(  # noqa: S608 - our names
        f"DELETE FROM {table} WHERE {condition}", *args, timeout=CLIENT_TIMEOUT_SECONDS
    )
    return int(status.rsplit(" ", 1)[1])
