"""SQL of recommendations between families (reco_story_shares, reco_family_loves; migrations/0003)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg


async def add_shares(pool: asyncpg.Pool, rows: Sequence[tuple[str, str, datetime]]) -> None:
    """(story_id, sharer, shared_at); idempotent (the bus delivers at least once)."""
    if rows:
        await pool.executemany(
            "INSERT INTO reco_story_shares (story_id, user_id, shared_at) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING",
            rows,
        )


async def add_loves(pool: asyncpg.Pool, rows: Sequence[tuple[str, str, str, datetime]]) -> None:
    """(story_id, family, age_group, loved_at); one row per (story, family), the first kept."""
    if rows:
        await pool.executemany(
            "INSERT INTO reco_family_loves (story_id, user_id, age_group, loved_at) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT DO NOTHING",
            rows,
        )


async def backed_stories(
    pool: asyncpg.Pool, age_group: str, requester: str, min_families: int, limit: int
) -> list[asyncpg.Record]:
    """Shared stories with the distinct families of this age group that loved them (neither the
    requester nor the sharer), at least `min_families` of them, most backed first."""
    return await pool.fetch(
        """
        SELECT s.story_id, s.user_id AS sharer, array_agg(DISTINCT l.user_id) AS backers
          FROM reco_story_shares s
          JOIN reco_family_loves l ON l.story_id = s.story_id
         WHERE l.age_group = $1 AND l.user_id <> $2 AND l.user_id <> s.user_id
         GROUP BY s.story_id, s.user_id
        HAVING count(DISTINCT l.user_id) >= $3
         ORDER BY count(DISTINCT l.user_id) DESC, max(l.loved_at) DESC, s.story_id
         LIMIT $4
        """,
        age_group,
        requester,
        min_families,
        limit,
    )


async def loved_by(pool: asyncpg.Pool, user_id: str) -> set[str]:
    rows = await pool.fetch("SELECT story_id FROM reco_family_loves WHERE user_id = $1", user_id)
    return {r["story_id"] for r in rows}


async def totals(pool: asyncpg.Pool, min_families: int) -> dict[str, int]:
    """The dashboard's figures: shared stories, and those backed by enough families to be shown
    (in some age group)."""
    row = await pool.fetchrow(
        """
        SELECT (SELECT count(DISTINCT story_id) FROM reco_story_shares) AS shared,
               (SELECT count(DISTINCT story_id) FROM (
                    SELECT l.story_id
                      FROM reco_family_loves l JOIN reco_story_shares s ON s.story_id = l.story_id
                     WHERE l.user_id <> s.user_id
                     GROUP BY l.story_id, l.age_group
                    HAVING count(DISTINCT l.user_id) >= $1) x) AS recommendable
        """,
        min_families,
    )
    return {"shared": row["shared"], "recommendable": row["recommendable"]}
