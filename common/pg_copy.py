"""Bulk loads by binary COPY, the stream encoded in C (common/_pg_copy.c) where it is built.

    await pg_copy.copy_rows(conn, "events", rows, columns)   # as conn.copy_records_to_table

asyncpg encodes COPY rows value by value through its codec table (ours for timestamptz is
Python); for the events writer that was a quarter of the service's CPU. Here the whole
stream is written in one C pass for the column types bulk loads use (text, jsonb, text[],
timestamptz, real, double precision), learned once per table and columns from PostgreSQL
itself. Other types, values of an unexpected Python type, or no compiled module: asyncpg
does the work (and words any error), as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

try:
    from common import _pg_copy
except ImportError:  # no C compiler at install time
    _pg_copy = None

# PostgreSQL's built-in type OIDs (fixed) → the letter _pg_copy.encode knows the type by:
# text, jsonb, text[], timestamptz, real, double precision.
_LETTERS = {25: "t", 3802: "j", 1009: "A", 1184: "T", 700: "r", 701: "d"}
_types: dict[tuple[str, tuple[str, ...]], str | None] = {}


async def copy_rows(
    conn: asyncpg.Connection, table: str, rows: Sequence[tuple], columns: Sequence[str]
) -> None:
    """COPY rows (tuples in `columns` order) into table, in the statement's own transaction
    or the caller's."""
    types = await _column_types(conn, table, tuple(columns)) if _pg_copy is not None else None
    if types is not None:
        try:
            payload = _pg_copy.encode(rows, types)
        except (TypeError, ValueError, OverflowError):
            payload = None  # asyncpg encodes it, or says what is wrong
        if payload is not None:
            await conn.copy_to_table(table, source=_once(payload), columns=list(columns), format="binary")
            return
    await conn.copy_records_to_table(table, records=rows, columns=list(columns))


def available() -> bool:
    return _pg_copy is not None


async def _column_types(conn: asyncpg.Connection, table: str, columns: tuple[str, ...]) -> str | None:
    key = (table, columns)
    if key not in _types:
        # The same introspection asyncpg makes for copy_records_to_table (a cached statement).
        names = ", ".join(f'"{c}"' for c in columns)
        statement = await conn.prepare(f"SELECT {names} FROM {table} LIMIT 0")
        letters = [_LETTERS.get(attribute.type.oid) for attribute in statement.get_attributes()]
        _types[key] = None if None in letters else "".join(letters)
    return _types[key]


async def _once(payload: bytes):
    yield payload
