"""SubmitFeedback: redact, store durably, hand over to the asynchronous analysis."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from storyverse.feedback.v1 import feedback_service_pb2 as pb

from common.bus import EventBus
from feedback_svc import store
from feedback_svc.analysis import SUBMITTED_TOPIC, submitted_message
from feedback_svc.submission import to_row

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submitted:
    feedback_id: str
    created: bool
    redacted: bool


class Intake:
    def __init__(self, pool: asyncpg.Pool, bus: EventBus) -> None:
        self.pool = pool
        self.bus = bus

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
            # A replay of feedback still waiting for analysis: the first publish may have been lost.
        try:
            await self.bus.publish(SUBMITTED_TOPIC, [submitted_message(row.feedback_id, row.story_id)])
        except Exception:  # noqa: BLE001 - stored is what the caller is promised; the sweeper analyses it
            log.exception(
                "publishing feedback for analysis failed", extra={"fields": {"id": row.feedback_id}}
            )
        return Submitted(row.feedback_id, created, row.redacted)
