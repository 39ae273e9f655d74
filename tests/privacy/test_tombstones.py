"""Tombstones: which late data of an erased user is dropped, read incrementally from PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from common.bus.inprocess import InProcessBus
from common.grpc_server import COMMON_MIGRATIONS
from common.migrations import apply_migrations
from common.privacy.erasure import request_erasure
from common.privacy.tombstones import Tombstones

T = datetime(2026, 3, 20, 14, 30, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def test_data_dated_up_to_the_erasure_is_covered_and_later_data_is_not():
    tombstones = Tombstones(86400, salt="salt")
    assert not tombstones.covers("kid-1", T)  # none live: not even a hash is computed
    tombstones.learn(tombstones.hash("kid-1"), T)
    assert tombstones.covers("kid-1", T) and tombstones.covers("kid-1", T - SECOND)
    assert not tombstones.covers("kid-1", T + SECOND)
    # Happened after, but received before (a client clock ahead): in flight, covered.
    assert tombstones.covers("kid-1", T + SECOND, T - SECOND)
    assert tombstones.covers("kid-1")  # undated: any data of an erased user
    assert not tombstones.covers("kid-2", T - SECOND)
    assert not tombstones.learn(tombstones.hash("kid-1"), T - SECOND)  # an older time moves nothing
    assert tombstones.learn(tombstones.hash("kid-1"), T + SECOND)  # a second erasure does


@pytest.fixture
async def pool(own_database):
    pool = await asyncpg.create_pool(own_database, min_size=1, max_size=2)
    await apply_migrations(pool, "common", COMMON_MIGRATIONS)
    yield pool
    await pool.close()


async def test_refresh_reads_new_tombstones_with_the_running_jobs_user_id_and_forgets_old_ones(pool):
    bus = InProcessBus()
    tombstones = Tombstones(retention=2.0)
    assert await tombstones.refresh(pool) == []
    first = await request_erasure(pool, bus, "kid-1", requested_by="test")
    (found,) = await tombstones.refresh(pool)
    assert (found.user_hash, found.erased_at, found.user_id) == (first.user_hash, first.erased_at, "kid-1")
    assert tombstones.covers("kid-1", first.erased_at) and len(tombstones) == 1
    assert await tombstones.refresh(pool) == []  # read again within the overlap: nothing new
    again = await request_erasure(pool, bus, "kid-1", requested_by="test")
    assert [e.erased_at for e in await tombstones.refresh(pool)] == [again.erased_at]
    await asyncio.sleep(2.1)
    await tombstones.refresh(pool)
    assert len(tombstones) == 0 and not tombstones.covers("kid-1", first.erased_at)
