"""One LISTEN connection per process (common/notifications.py), against the test PostgreSQL:
payloads reach every subscriber of their channel, and a lost connection is opened again, its
subscribers told that notifications may have been missed."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from common.notifications import Notifications


async def _until(check, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not within time")


async def test_payloads_reach_their_channels_subscribers_and_survive_a_lost_connection(db: asyncpg.Pool):
    channel, other = f"t_{uuid.uuid4().hex[:8]}", f"t_{uuid.uuid4().hex[:8]}"
    heard: list[tuple[str, str]] = []
    gaps: list[str] = []
    notifications = Notifications(db)
    notifications.subscribe(channel, lambda p: heard.append(("a", p)), on_gap=lambda: gaps.append("a"))
    notifications.subscribe(channel, lambda p: heard.append(("b", p)))
    notifications.subscribe(other, lambda p: heard.append(("other", p)))
    await notifications.start()
    try:
        await db.execute("SELECT pg_notify($1, 'one')", channel)
        await _until(lambda: len(heard) == 2)
        assert sorted(heard) == [("a", "one"), ("b", "one")] and gaps == []

        # The listening backend is terminated (a PostgreSQL restart, a killed session).
        # Its last statement was the LISTEN of the last channel subscribed (asyncpg quotes it).
        terminated = await db.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query = $1",
            f'LISTEN "{other}"',
        )
        assert terminated == 1
        await _until(lambda: gaps == ["a"])  # listening again, and said so
        assert notifications.listening
        await db.execute("SELECT pg_notify($1, 'two')", other)
        await _until(lambda: ("other", "two") in heard)
    finally:
        await notifications.aclose()
    assert not notifications.listening
