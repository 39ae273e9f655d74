"""SubmitFeedback: redact, store durably, hand over to the asynchronous analysis.

Feedback a user gave before their erasure that reaches us after it (a retry, an offline
device) is acknowledged and dropped: the erasure removed the user's feedback already.
"""

from __future__ import annotations

from dataclasses import dataclass

from common import metrics
from common.privacy.tombstones import Tombstones
from feedback_svc.analysis import submitted_message
from feedback_svc.group_commit import SubmissionWriter
from feedback_svc.publisher import BatchPublisher
from feedback_svc.submission import FeedbackRow


@dataclass(frozen=True)
class Submitted:
    feedback_id: str
    created: bool
    redacted: bool


class Intake:
    def __init__(
        self, writer: SubmissionWriter, publisher: BatchPublisher, tombstones: Tombstones | None = None
    ) -> None:
        self.writer = writer
        self.publisher = publisher
        self.tombstones = tombstones

    async def submit(self, row: FeedbackRow) -> Submitted:
        if self.tombstones and self.tombstones.covers(row.user_id, row.ts):
            metrics.ERASURE_DROPPED.add(1, {"where": "feedback intake"})
            return Submitted(row.feedback_id, False, row.redacted)
        # Group commit: the row is committed when this returns, before the caller's answer.
        stored = await self.writer.write(row)
        if stored.analyzed:
            return Submitted(row.feedback_id, False, row.redacted)
        # New, or a replay of feedback still waiting for analysis (the first message may have been lost).
        self.publisher.add(submitted_message(row.feedback_id, row.story_id))
        return Submitted(row.feedback_id, stored.created, row.redacted)
