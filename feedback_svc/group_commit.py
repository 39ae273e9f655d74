"""Group commit for SubmitFeedback (common/group_commit.py): concurrent submissions share one
INSERT and one COMMIT.

A call is still answered only after its row is committed, and replays stay idempotent
(ON CONFLICT (feedback_id) DO NOTHING). One fsync and one round trip serve a whole group,
which is what lets a surge of single submissions through. With max_pending submissions
already queued a call is refused with RESOURCE_EXHAUSTED and a retry hint.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from common.group_commit import GroupCommit
from feedback_svc import store
from feedback_svc.submission import FeedbackRow


@dataclass(frozen=True)
class Stored:
    created: bool  # this call stored the row (False: a replay of a stored feedback_id)
    analyzed: bool  # the row was analysed already (replays only)


class SubmissionWriter(GroupCommit[FeedbackRow, Stored]):
    def __init__(
        self, pool: asyncpg.Pool, max_rows: int = 1000, parallel_flushes: int = 2, max_pending: int = 5000
    ) -> None:
        super().__init__(
            pool,
            self._store_group,
            name="feedback group commit",
            max_rows=max_rows,
            parallel_flushes=parallel_flushes,
            max_pending=max_pending,
            full_message="too many submissions waiting to be stored, retry shortly",
        )

    async def write(self, row: FeedbackRow) -> Stored:
        return await self.submit(row)

    async def _store_group(self, conn: asyncpg.Connection, group: list[FeedbackRow]) -> list[Stored]:
        # The same feedback_id twice in one group: the first call stores it, the others are replays.
        first: dict[str, FeedbackRow] = {}
        for row in group:
            first.setdefault(row.feedback_id, row)
        outcome = await store.insert_feedback_group(conn, list(first.values()))
        claimed: set[str] = set()
        stored = []
        for row in group:
            created, analyzed = outcome[row.feedback_id]
            stored.append(Stored(created and row.feedback_id not in claimed, analyzed))
            claimed.add(row.feedback_id)
        return stored
