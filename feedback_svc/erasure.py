"""What the feedback service erases of a user: their feedback rows (ratings, comments and the
comments' search index, kept in the row). Feedback submitted before the erasure that arrives
after it is dropped at intake (intake.py); the analysis reads rows by id, so it finds nothing
of an erased user.
"""

from __future__ import annotations

import asyncpg

from common.privacy.steps import ErasureStep, table_step


def erasure_steps(pool: asyncpg.Pool) -> list[ErasureStep]:
    return [table_step(pool, "feedback", "user_id = $1")]
