"""The bulk writers' timestamptz codec against asyncpg's own, through a real PostgreSQL.

Each value is written twice, once with asyncpg's codec and once with ours, and read back
both ways: PostgreSQL must hold the same instant, and both decoders must give the same
datetime.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common import pg_timestamps
from common.group_commit import GroupCommit

FIXED = [
    datetime(2026, 11, 25, 13, 45, 36, 352000, tzinfo=UTC),
    datetime.fromisoformat("2026-11-25T13:45:36.000001Z"),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # before PostgreSQL's epoch
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
    datetime(2024, 2, 29, 12, 0, tzinfo=timezone(timedelta(hours=14))),
    datetime(2026, 6, 1, 8, 0),  # naive: local time, as asyncpg reads it
    date(2026, 6, 1),
    datetime(1, 1, 2, tzinfo=UTC),  # (asyncpg writes an aware 0001-01-01 00:00 as -infinity; ours does not)
    datetime(9999, 12, 31, 0, 0, tzinfo=UTC),
    datetime.max,  # asyncpg's 'infinity'
    datetime.min,  # and '-infinity'
]


ZONES = [UTC, timezone(timedelta(hours=5, minutes=45)), timezone(-timedelta(hours=3))]


@pytest.fixture
async def connections(pg_url: str):
    plain, fast = await asyncpg.connect(pg_url), await asyncpg.connect(pg_url)
    await pg_timestamps.install(fast)
    try:
        yield plain, fast
    finally:
        await plain.close()
        await fast.close()


async def _both_ways(plain: asyncpg.Connection, fast: asyncpg.Connection, values: list) -> None:
    rows = [(i, v) for i, v in enumerate(values)]
    for conn in (plain, fast):
        await conn.execute("CREATE TEMP TABLE IF NOT EXISTS stamps (i int, via text, at timestamptz)")
        await conn.execute("TRUNCATE stamps")
    await plain.copy_records_to_table("stamps", records=rows, columns=["i", "at"])
    await fast.copy_records_to_table("stamps", records=rows, columns=["i", "at"])
    await fast.executemany("INSERT INTO stamps (i, via, at) VALUES ($1, 'insert', $2)", rows)
    for conn in (plain, fast):  # temp tables are per session: compare within each
        differing = await conn.fetch(
            "SELECT i, array_agg(at::text) FROM stamps GROUP BY i HAVING count(DISTINCT at) > 1"
        )
        assert not differing, differing
    expected = [r["at"] for r in await plain.fetch("SELECT at FROM stamps ORDER BY i")]
    got = [r["at"] for r in await fast.fetch("SELECT at FROM stamps WHERE via IS NULL ORDER BY i")]
    assert got == expected
    # Same instants in the other direction: ours decoding what asyncpg wrote, and back.
    assert [pg_timestamps.decode(pg_timestamps.encode(v)) for v in expected] == expected


async def test_same_instants_as_asyncpg(connections) -> None:
    await _both_ways(*connections, FIXED)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.datetimes(
            min_value=datetime(1900, 1, 1),
            max_value=datetime(2200, 1, 1),
            timezones=st.sampled_from(ZONES),
        ),
        min_size=1,
        max_size=20,
    )
)
async def test_random_aware_datetimes(connections, values) -> None:
    await _both_ways(*connections, values)


def test_a_repeated_value_is_encoded_once_and_stays_right() -> None:
    first = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert pg_timestamps.encode(first) is pg_timestamps.encode(first)
    later = first + timedelta(microseconds=1)
    assert pg_timestamps.encode(later) == (pg_timestamps.encode(first)[0] + 1,)
    assert pg_timestamps.encode(datetime(2000, 1, 1, tzinfo=UTC)) == (0,)
    assert pg_timestamps.decode((0,)) == datetime(2000, 1, 1, tzinfo=UTC)


async def test_install_and_uninstall_switch_the_codec(pg_url: str) -> None:
    conn = await asyncpg.connect(pg_url)
    try:
        await pg_timestamps.install(conn)
        at = datetime(2026, 1, 1, 0, 0, 0, 7, tzinfo=UTC)
        assert await conn.fetchval("SELECT $1::timestamptz", at) == at
        assert pg_timestamps._last[0] is at  # ours encoded it
        await pg_timestamps.uninstall(conn)
        other = datetime(2026, 1, 2, tzinfo=UTC)
        assert await conn.fetchval("SELECT $1::timestamptz", other) == other
        assert pg_timestamps._last[0] is at  # asyncpg's did
    finally:
        await conn.close()


async def test_group_commit_sets_up_kept_connections_and_tears_down_before_release(
    pg_url: str,
) -> None:
    """What the ingestion writer relies on: its flushes encode with pg_timestamps, and a connection
    goes back to the pool with asyncpg's own codec."""
    pool = await asyncpg.create_pool(pg_url, min_size=1, max_size=1)
    installed, removed = [], []

    async def setup(conn: asyncpg.Connection) -> None:
        installed.append(conn)
        await pg_timestamps.install(conn)

    async def teardown(conn: asyncpg.Connection) -> None:
        removed.append(conn)
        await pg_timestamps.uninstall(conn)

    async def store(conn: asyncpg.Connection, items: list[datetime]) -> list[datetime]:
        return [await conn.fetchval("SELECT $1::timestamptz", at) for at in items]

    writer = GroupCommit(pool, store, name="test group commit", setup=setup, teardown=teardown)
    try:
        first, second = datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 2, tzinfo=UTC)
        assert await writer.submit(first) == first
        assert pg_timestamps._last[0] is first  # encoded by ours
        assert await writer.submit(second) == second
        assert len(installed) == 1  # the kept connection is set up once
        await writer.aclose()
        assert removed == installed
        async with pool.acquire() as conn:
            third = datetime(2026, 5, 3, tzinfo=UTC)
            assert await conn.fetchval("SELECT $1::timestamptz", third) == third
            assert pg_timestamps._last[0] is second  # asyncpg's codec again
    finally:
        await pool.close()
