"""Erasure of one user's feedback (ratings, comments and their search index, kept in the row)."""

from __future__ import annotations

import asyncpg

from common.privacy.tables import delete_where


async def erase_user(conn: asyncpg.Connection, user_id: str) -> dict[str, int]:
    return {"feedback": await delete_where(conn, "feedback", "user_id = $1", user_id)}
