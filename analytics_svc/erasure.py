"""Erasure of one user's analytics data: raw events, rejected events, and the per-user
rollups (daily activity, first events, per-day event sequences, activity) that the
reports keep for funnels and retention cohorts.

Rollups that only hold counts (daily_event_counts, daily_content, ...) are kept.
"""

from __future__ import annotations

import asyncpg

from common.privacy.tables import delete_where


async def erase_user(conn: asyncpg.Connection, user_id: str) -> dict[str, int]:
    return {
        "events": await delete_where(conn, "events", "user_id = $1", user_id),
        # A rejected event keeps its raw payload, whatever it held.
        "failed_events": await delete_where(
            conn, "failed_events", "jsonb_typeof(payload) = 'object' AND payload->>'user_id' = $1", user_id
        ),
        "daily_user_activity": await delete_where(conn, "daily_user_activity", "user_id = $1", user_id),
        "user_first_events": await delete_where(conn, "user_first_events", "user_id = $1", user_id),
        "user_day_sequences": await delete_where(conn, "user_day_sequences", "user_id = $1", user_id),
        "user_activity": await delete_where(conn, "user_activity", "user_id = $1", user_id),
    }
