"""Small SQL helpers for the per-service erasure functions."""

from __future__ import annotations

import asyncpg

LONG_STATEMENT_SECONDS = 60.0


async def table_exists(conn: asyncpg.Connection, table: str) -> bool:
    return await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table)


async def delete_where(conn: asyncpg.Connection, table: str, condition: str, *args: object) -> int:
    """DELETE FROM table WHERE condition; the number of rows, 0 when the table is not there
    (a service whose tables are not created yet has nothing to erase)."""
    if not await table_exists(conn, table):
        return 0
    # A user's rows in a large table (events has no user index) take longer than a request's query.
    status = await conn.execute(  # noqa: S608 - our names
        f"DELETE FROM {table} WHERE {condition}", *args, timeout=LONG_STATEMENT_SECONDS
    )
    return int(status.rsplit(" ", 1)[1])
