"""SubmitFeedback: redact, store durably, hand over to the asynchronous analysis."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from storyverse.feedback.v1 import feedback_service_pb2 as pb

from feedback_svc import store
from feedback_svc.analysis import submitted_message
from feedback_svc.publisher import BatchPublisher
from feedback_svc.submission import to_row


@dataclass(frozen=True)
class Submitted:
    feedback_id: str
    created: bool
    redacted: bool


class Intake:
    def __init__(self, pool: asyncpg.Pool, publisher: BatchPublisher) -> None:
        self.pool = pool
        self.publisher = publisher

    async def submit(self, entry: pb.FeedbackEntry) -> Submitted:
        row = to_row(entry, datetime.now(UTC))
        # Autocommit: the row is committed when this returns, before the caller's answer.
        created = await store.insert_feedback(self.pool, row)
        if not created:
            analyzed = await self.pool.fetchval(
                "SELECT analyzed FROM feedback WHERE feedback_id = $1", row.feedback_id
            )
            if analyzed:
                return Submitted(row.feedback_id, False, row.redacted)
            # A replay of feedback still waiting for analysis: the first message may have been lost.
        self.publisher.add(submitted_message(row.feedback_id, row.story_id))
        return Submitted(row.feedback_id, created, row.redacted)
