"""What the feedback service erases of a user: their feedback rows (ratings, comments and the
comments' search index, kept in the row) and the metadata of the stories they created (story_meta,
the copy from story_creation events: a child's own stories are the child's data). Feedback
submitted before the erasure that arrives after it is dropped at intake (intake.py), story
creations in flight by the follower (stories.py); the analysis reads rows by id, so it finds
nothing of an erased user.
"""

from __future__ import annotations

import asyncpg

from common.privacy.steps import ErasureStep, table_step


def erasure_steps(pool: asyncpg.Pool) -> list[ErasureStep]:
    return [
        table_step(pool, "feedback", "user_id = $1"),
        table_step(pool, "story_meta", "creator_id = $1"),
    ]
