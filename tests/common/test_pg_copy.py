"""Bulk loads through common.pg_copy against asyncpg's own COPY, into a real PostgreSQL.

The same rows go into two tables of the same columns, once by pg_copy.copy_rows (the stream
encoded in C) and once by asyncpg's copy_records_to_table; PostgreSQL must then hold the
same values in both.
"""

from __future__ import annotations

import json
import math
import shutil
import sysconfig
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common import pg_copy

COLUMNS = ("id", "name", "tags", "at", "score", "ratio", "doc")
COMPILER = shutil.which((sysconfig.get_config_var("CC") or "cc").split()[0])


@pytest.fixture
async def conn(pg_url: str):
    connection = await asyncpg.connect(pg_url)
    try:
        yield connection
    finally:
        await connection.close()


async def _tables(conn: asyncpg.Connection) -> tuple[str, str]:
    names = tuple(f"copy_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("ours", "asyncpg"))
    for name in names:
        await conn.execute(
            f"CREATE TEMP TABLE {name} (id int4 GENERATED ALWAYS AS IDENTITY, name text, tags text[],"
            " at timestamptz, score real, ratio float8, doc jsonb)"
        )
    return names


async def _same_both_ways(conn: asyncpg.Connection, rows: list[tuple]) -> list:
    ours, theirs = await _tables(conn)
    columns = COLUMNS[1:]
    await pg_copy.copy_rows(conn, ours, rows, columns)
    await conn.copy_records_to_table(theirs, records=rows, columns=list(columns))
    # Numbers as text: NaN equals itself there.
    query = "SELECT name, tags, at, score::text, ratio::text, doc::text FROM {} ORDER BY id"
    stored = await conn.fetch(query.format(ours))
    assert stored == await conn.fetch(query.format(theirs))
    assert len(stored) == len(rows)
    return stored


def test_the_encoder_is_built_where_a_compiler_is():
    assert pg_copy.available() == bool(COMPILER), "common/_pg_copy.c was not built (pip install -e .)"


PLUS_14, MINUS_9_30 = timezone(timedelta(hours=14)), timezone(-timedelta(hours=9, minutes=30))
EDGE_ROWS = [
    ("plain", ["a", "b"], datetime(2026, 11, 25, 13, 45, 36, 352000, tzinfo=UTC), 450.0, 0.1, '{"a": 1}'),
    (None, None, None, None, None, None),
    ("", [], datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), 0.1, -0.0, "{}"),
    ("ünïcödé ✓ 🐉", ["dragon-ball", None, "ü"], datetime(1970, 1, 1, tzinfo=UTC), 1e-7, 1e300, '{"k": "é"}'),
    (
        "x" * 10_000,
        ["y" * 300] * 30,
        datetime(2024, 2, 29, 12, tzinfo=PLUS_14),
        86400,
        3,
        "[]",
    ),
    (
        "minus",
        ["z"],
        datetime(2026, 3, 29, 1, 30, tzinfo=MINUS_9_30),
        -1.5,
        2.5,
        "1",
    ),
    ("far", ["q"], datetime(9999, 12, 31, tzinfo=UTC), 3.4e38, -math.inf, '"s"'),
    ("early", ["r"], datetime(1, 1, 2, tzinfo=UTC), math.inf, math.nan, "null"),
]


async def test_the_columns_of_these_tables_and_of_events_are_encoded_in_c(conn, db, analytics):
    """Not a silent fall back to asyncpg (which stores the same): the C encoder knows every type
    (the analytics service has created events)."""
    if not pg_copy.available():
        return  # no compiler here: test_the_encoder_is_built_where_a_compiler_is says why
    ours, _ = await _tables(conn)
    assert await pg_copy._column_types(conn, ours, COLUMNS[1:]) == "tATrdj"
    from analytics_svc.ingestion.prepare import COLUMNS as EVENT_COLUMNS

    async with db.acquire() as events_conn:
        assert await pg_copy._column_types(events_conn, "events", EVENT_COLUMNS) == "ttttTTtAAttrttttj"


async def test_edge_values_are_stored_as_asyncpg_stores_them(conn):
    stored = await _same_both_ways(conn, EDGE_ROWS)
    assert stored[3]["tags"] == ["dragon-ball", None, "ü"]
    assert stored[2]["tags"] == []


@pytest.mark.parametrize(
    "odd",
    [
        ("naive", ["a"], datetime(2026, 6, 1, 8, 0), 1.0, 1.0, "{}"),  # local time, as asyncpg reads it
        ("date", ["a"], date(2026, 6, 1), 1.0, 1.0, "{}"),
        ("infinity", ["a"], datetime.max, 1.0, 1.0, "{}"),
        ("int score", ["a"], None, 3, 1.0, "{}"),
        ("tuple tags", ("a", "b"), None, 1.0, 1.0, "{}"),
    ],
)
async def test_values_asyncpg_accepts_in_other_shapes_are_stored_the_same(conn, odd):
    await _same_both_ways(conn, [EDGE_ROWS[0], odd])


@pytest.mark.parametrize(
    "bad",
    [
        (1, ["a"], None, 1.0, 1.0, "{}"),  # an int for text
        ("a", "not a list", None, 1.0, 1.0, "{}"),
        ("a", ["a"], None, 1e39, 1.0, "{}"),  # beyond real
    ],
)
async def test_bad_values_fail_as_asyncpg_fails(conn, bad):
    ours, theirs = await _tables(conn)
    with pytest.raises(Exception) as expected:
        await conn.copy_records_to_table(theirs, records=[bad], columns=list(COLUMNS[1:]))
    with pytest.raises(type(expected.value)):
        await pg_copy.copy_rows(conn, ours, [bad], COLUMNS[1:])
    assert await conn.fetchval(f"SELECT count(*) FROM {ours}") == 0


async def test_other_column_types_are_left_to_asyncpg(conn):
    name = f"copy_other_{uuid.uuid4().hex[:8]}"
    await conn.execute(f"CREATE TEMP TABLE {name} (n int8, b bool)")
    await pg_copy.copy_rows(conn, name, [(1, True), (None, None)], ("n", "b"))
    assert [tuple(r) for r in await conn.fetch(f"SELECT n, b FROM {name}")] == [(1, True), (None, None)]


TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)
AWARE = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=45)), timezone(-timedelta(hours=3))]),
)
ROWS = st.lists(
    st.tuples(
        st.none() | TEXT,
        st.none() | st.lists(st.none() | TEXT, max_size=4),
        st.none() | AWARE,
        st.none() | st.floats(width=32),
        st.none() | st.floats(),
        st.none() | TEXT.map(lambda t: json.dumps({"t": t})),
    ),
    min_size=1,
    max_size=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS)
async def test_generated_rows_are_stored_as_asyncpg_stores_them(conn, rows):
    await _same_both_ways(conn, rows)
