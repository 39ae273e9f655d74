"""Erasure of one user's analytics data: raw events and rejected events.

Rollups (daily_* tables) hold counts, not users, and are kept.
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
    }
