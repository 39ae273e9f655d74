"""Turning a submitted Feedback Entry into a row: checks the rules cannot express,
redaction, derived columns. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storyverse.feedback.v1 import feedback_service_pb2 as pb

from common.errors import FieldViolation, InvalidArgument
from common.validation import parse_rfc3339
from feedback_svc.redaction import redact

MAX_FUTURE = timedelta(minutes=5)
# StoryVerse did not exist before this; older timestamps are clock or client bugs.
EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)
AGE_GROUPS = (("3-5", 0, 5), ("6-8", 6, 8), ("9-12", 9, 12), ("13-17", 13, 17))


@dataclass(frozen=True)
class FeedbackRow:
    feedback_id: str
    user_id: str
    story_id: str
    ts: datetime
    rating: int
    comment: str
    redacted: bool
    categories: list[str]
    child_age: int | None
    age_group: str | None
    device_type: str | None
    platform: str | None


def age_group(age: int | None) -> str | None:
    """The reporting age group of a child's age (2-year-olds count with the youngest group)."""
    if not age:
        return None
    for name, low, high in AGE_GROUPS:
        if low <= age <= high:
            return name
    return None


def check_timestamp(value: str, now: datetime) -> datetime:
    ts = parse_rfc3339(value)
    problem = None
    if ts is None:  # pragma: no cover - the contract's rfc3339 rule rejected it already
        problem = "must be an RFC 3339 timestamp"
    elif ts - now > MAX_FUTURE:
        problem = "is more than 5 minutes in the future"
    elif ts < EARLIEST:
        problem = "is before 2020-01-01"
    if problem:
        raise InvalidArgument.of([FieldViolation("feedback.timestamp", problem)])
    return ts  # type: ignore[return-value]


def to_row(entry: pb.FeedbackEntry, now: datetime) -> FeedbackRow:
    """The row to store; client-sent outputs (sentiment, aspects, analyzed) are ignored."""
    ts = check_timestamp(entry.timestamp, now)
    cleaned = redact(entry.comment)
    age = entry.child_age or None
    return FeedbackRow(
        feedback_id=entry.feedback_id,
        user_id=entry.user_id,
        story_id=entry.story_id,
        ts=ts,
        rating=entry.rating,
        comment=cleaned.text.strip(),
        redacted=cleaned.redacted,
        categories=list(dict.fromkeys(entry.categories)),
        child_age=age,
        age_group=age_group(age),
        device_type=entry.device_type or None,
        platform=entry.platform or None,
    )
