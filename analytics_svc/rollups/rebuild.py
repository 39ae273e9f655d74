"""The nightly rollup: daily aggregate tables rebuilt day by day.

Each day is deleted and re-inserted in one transaction (the daily aggregates of
queries/daily.py, the per-user rollups of queries/sequences.py), so a run can be
repeated or interrupted at any point without double counting, and readers never see
a half-built day.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta

import asyncpg

from analytics_svc.queries import daily, sequences


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


async def rollup_day(conn: asyncpg.Connection, day: date) -> int:
    """Rebuild every daily table for one day in one transaction; return its event count."""
    async with conn.transaction():
        previous_users = await sequences.day_users(conn, day)
        await daily.rollup_aggregates(conn, day)
        await sequences.rollup_day(conn, day, previous_users)  # builds on daily_user_activity
        await daily.rollup_first_and_active(conn, day)
        return await daily.mark_rolled_up(conn, day)


async def run(
    pool: asyncpg.Pool, first: date, last: date, progress: Callable[[str], None] = lambda _: None
) -> int:
    """Roll up every day from first to last inclusive; return the number of events covered."""
    days = days_between(first, last)
    total = 0
    started = time.perf_counter()
    async with pool.acquire() as conn:
        for done, day in enumerate(days, 1):
            t0 = time.perf_counter()
            events = await rollup_day(conn, day)
            total += events
            progress(
                f"[{done}/{len(days)}] {day}: {events:,} events in {time.perf_counter() - t0:.1f} s "
                f"(elapsed {time.perf_counter() - started:.0f} s)"
            )
        # Fresh statistics: the readers' plans depend on how many rows a range holds.
        await conn.execute(
            "ANALYZE rollup_days, daily_user_activity, daily_event_counts, daily_content, "
            "daily_creation_times, daily_active_counts, user_first_events, user_day_sequences, "
            "user_activity, daily_creation_histograms, daily_recommendation_clicks"
        )
    return total
