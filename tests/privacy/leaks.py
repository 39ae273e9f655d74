"""Where a user id still is: every table of the database, read from information_schema.

    await tables_naming(pool, "kid-1")     # {"events": 3, "feedback": 1}: rows that hold the id
    await user_tables(pool)                # tables with a column named for a user (user_id, creator_id)

`tables_naming` reads every column of every table as text (jsonb, arrays and tsvectors
included), so a new table is searched without anyone listing it; bytea columns hold no ids.
"""

from __future__ import annotations

import asyncpg

# Columns that hold salted hashes, never ids (common/privacy): they name the user for the
# erasure's own bookkeeping and are no leak.
HASH_COLUMNS = {("erased_users", "user_hash"), ("privacy_audit", "user_hash"), ("erasure_jobs", "user_hash")}


async def _columns(pool: asyncpg.Pool) -> dict[str, list[tuple[str, str]]]:
    rows = await pool.fetch(
        """SELECT c.table_name, c.column_name, c.data_type
             FROM information_schema.columns c
             JOIN information_schema.tables t USING (table_schema, table_name)
            WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
            ORDER BY c.table_name, c.ordinal_position"""
    )
    tables: dict[str, list[tuple[str, str]]] = {}
    for r in rows:
        tables.setdefault(r["table_name"], []).append((r["column_name"], r["data_type"]))
    return tables


async def user_tables(pool: asyncpg.Pool) -> set[str]:
    """Tables with a column that names a user by its id (the hash columns left out)."""
    return {
        table
        for table, columns in (await _columns(pool)).items()
        for column, _ in columns
        if ("user" in column or "creator" in column) and (table, column) not in HASH_COLUMNS
    }


async def tables_naming(pool: asyncpg.Pool, user_id: str) -> dict[str, int]:
    """Rows per table in which any column, read as text, contains the id."""
    found = {}
    for table, columns in (await _columns(pool)).items():
        texts = [f'strpos("{name}"::text, $1) > 0' for name, kind in columns if kind != "bytea"]
        if not texts:
            continue
        count = await pool.fetchval(f'SELECT count(*) FROM "{table}" WHERE {" OR ".join(texts)}', user_id)
        if count:
            found[table] = count
    return found
