"""The services' pool (common/database.create_pool) sets its sessions up as configured:
backend_flush_after (writeback as pages are written, not at a checkpoint's fsync)."""

from __future__ import annotations

from dataclasses import replace

from common import database
from common.settings import Settings


async def _session_setting(url: str, settings: Settings, name: str) -> str:
    pool = await database.create_pool(settings, url)
    try:
        async with pool.acquire() as conn:
            return await conn.fetchval("SELECT current_setting($1)", name)
    finally:
        await pool.close()


async def test_sessions_flush_their_writes_as_they_go(pg_url: str) -> None:
    settings = Settings(db_pool_min=1, db_pool_max=1)
    assert await _session_setting(pg_url, settings, "backend_flush_after") == "256kB"


async def test_backend_flush_after_is_configurable_and_can_be_turned_off(pg_url: str) -> None:
    settings = Settings(db_pool_min=1, db_pool_max=1)
    for value in ("1MB", "0"):
        configured = replace(settings, db_backend_flush_after=value)
        assert await _session_setting(pg_url, configured, "backend_flush_after") == value
