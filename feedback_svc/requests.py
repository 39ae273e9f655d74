"""Request parameters of the feedback service: defaults, and the checks the contract's rules
cannot express (date order, rating range, page size).

The contract already rejects malformed dates, unknown labels and out-of-range numbers before any
of this runs; here every problem is a FieldViolation naming the request field, raised as
InvalidArgument. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from storyverse.feedback.v1 import feedback_service_pb2 as pb

from common.errors import FieldViolation, InvalidArgument
from feedback_svc.submission import FeedbackRow, to_row

DEFAULT_DAYS = 30
DEFAULT_PAGE_SIZE = 20


def page_size(requested: int) -> int:
    return requested or DEFAULT_PAGE_SIZE


def submission(request: pb.SubmitFeedbackRequest) -> FeedbackRow:
    """The row a SubmitFeedback request stores (checked, redacted, with derived columns)."""
    return to_row(request.feedback, datetime.now(UTC))


@dataclass(frozen=True)
class SummaryFilters:
    start: datetime
    end: datetime  # exclusive
    story_id: str | None = None
    age_group: str | None = None
    platform: str | None = None
    device_type: str | None = None


def summary_filters(request: pb.GetFeedbackSummaryRequest) -> SummaryFilters:
    """The period (default: the last 30 days up to today, UTC) and the filters of a summary."""
    today = datetime.now(UTC).date()
    end_day = date.fromisoformat(request.end_date) if request.end_date else today
    start_day = (
        date.fromisoformat(request.start_date)
        if request.start_date
        else end_day - timedelta(days=DEFAULT_DAYS - 1)
    )
    if start_day > end_day:
        raise InvalidArgument.of([FieldViolation("end_date", "must not be before start_date")])
    return SummaryFilters(
        datetime.combine(start_day, time(), UTC),
        datetime.combine(end_day + timedelta(days=1), time(), UTC),
        request.story_id or None,
        request.age_group or None,
        request.platform or None,
        request.device_type or None,
    )


@dataclass(frozen=True)
class SearchFilters:
    q: str
    story_id: str | None = None
    min_rating: int | None = None
    max_rating: int | None = None
    start: datetime | None = None
    end: datetime | None = None  # exclusive
    sentiment_label: str | None = None

    def fingerprint(self) -> str:
        """Ties a page token to the query and filters it was issued for."""
        raw = json.dumps(
            [
                self.q,
                self.story_id,
                self.min_rating,
                self.max_rating,
                str(self.start),
                str(self.end),
                self.sentiment_label,
            ]
        )
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


def search_filters(request: pb.SearchFeedbackRequest) -> SearchFilters:
    r = request
    if r.min_rating and r.max_rating and r.min_rating > r.max_rating:
        raise InvalidArgument.of([FieldViolation("max_rating", "must not be below min_rating")])
    if r.start_date and r.end_date and r.start_date > r.end_date:
        raise InvalidArgument.of([FieldViolation("end_date", "must not be before start_date")])
    start = datetime.combine(date.fromisoformat(r.start_date), time(), UTC) if r.start_date else None
    end = (
        datetime.combine(date.fromisoformat(r.end_date) + timedelta(days=1), time(), UTC)
        if r.end_date
        else None
    )
    return SearchFilters(
        r.q,
        r.story_id or None,
        r.min_rating or None,
        r.max_rating or None,
        start,
        end,
        r.sentiment_label or None,
    )
