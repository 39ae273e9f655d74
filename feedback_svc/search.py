"""Reading feedback: a story's feedback newest first, and full-text search.

Both use keyset pagination (the sort key of the last row in an opaque token), so
a page costs the same however deep it is and rows added meanwhile do not shift
pages. Search uses PostgreSQL full text: websearch_to_tsquery (words, "quoted
phrases", OR, -excluded), the GIN index on the generated `search` column,
ts_rank for ranking and ts_headline for snippets with <b>...</b>.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import asyncpg

from common.errors import FieldViolation, InvalidArgument
from feedback_svc import paging

FEEDBACK_COLUMNS = (
    "f.feedback_id, f.user_id, f.story_id, f.ts, f.rating, f.comment, f.categories, f.child_age,"
    " f.device_type, f.platform, f.sentiment_score, f.sentiment_label, f.aspects, f.parts, f.analyzed"
)
_HEADLINE = 'StartSel=<b>, StopSel=</b>, MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=" ... "'


async def story_feedback(
    pool: asyncpg.Pool, story_id: str, size: int, token: str
) -> tuple[list[asyncpg.Record], str]:
    position = paging.decode(token, "story", story_id)
    after_ts, after_id = (datetime.fromisoformat(position[0]), position[1]) if position else (None, None)
    records = await pool.fetch(
        f"SELECT {FEEDBACK_COLUMNS} FROM feedback f WHERE f.story_id = $1"
        " AND ($2::timestamptz IS NULL OR (f.ts, f.feedback_id) < ($2, $3::text))"
        " ORDER BY f.ts DESC, f.feedback_id DESC LIMIT $4",
        story_id,
        after_ts,
        after_id,
        size + 1,
    )
    if len(records) <= size:
        return list(records), ""
    last = records[size - 1]
    return list(records[:size]), paging.encode(
        "story", story_id, [last["ts"].isoformat(), last["feedback_id"]]
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

    @classmethod
    def of(cls, q, story_id, min_rating, max_rating, start_date, end_date, sentiment_label) -> SearchFilters:
        if min_rating and max_rating and min_rating > max_rating:
            raise InvalidArgument.of([FieldViolation("max_rating", "must not be below min_rating")])
        if start_date and end_date and start_date > end_date:
            raise InvalidArgument.of([FieldViolation("end_date", "must not be before start_date")])
        start = datetime.combine(date.fromisoformat(start_date), time(), UTC) if start_date else None
        end = (
            datetime.combine(date.fromisoformat(end_date) + timedelta(days=1), time(), UTC)
            if end_date
            else None
        )
        return cls(
            q, story_id or None, min_rating or None, max_rating or None, start, end, sentiment_label or None
        )

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


_SEARCH = f"""
WITH query AS (SELECT websearch_to_tsquery('english', $1) AS q),
hits AS (
    SELECT {FEEDBACK_COLUMNS}, ts_rank(f.search, query.q) AS rank
    FROM feedback f, query
    WHERE f.search @@ query.q
      AND ($2::text IS NULL OR f.story_id = $2)
      AND ($3::int IS NULL OR f.rating >= $3)
      AND ($4::int IS NULL OR f.rating <= $4)
      AND ($5::timestamptz IS NULL OR f.ts >= $5)
      AND ($6::timestamptz IS NULL OR f.ts < $6)
      AND ($7::text IS NULL OR f.sentiment_label = $7)
)
SELECT hits.*, ts_headline('english', hits.comment, query.q, '{_HEADLINE}') AS snippet
FROM hits, query
WHERE $8::real IS NULL OR hits.rank < $8::real OR (hits.rank = $8::real AND hits.feedback_id > $9::text)
ORDER BY hits.rank DESC, hits.feedback_id
LIMIT $10
"""


async def search(
    pool: asyncpg.Pool, filters: SearchFilters, size: int, token: str
) -> tuple[list[asyncpg.Record], str]:
    scope = filters.fingerprint()
    position = paging.decode(token, "search", scope)
    after_rank, after_id = (float(position[0]), str(position[1])) if position else (None, None)
    records = await pool.fetch(
        _SEARCH,
        filters.q,
        filters.story_id,
        filters.min_rating,
        filters.max_rating,
        filters.start,
        filters.end,
        filters.sentiment_label,
        after_rank,
        after_id,
        size + 1,
    )
    if len(records) <= size:
        return list(records), ""
    last = records[size - 1]
    return list(records[:size]), paging.encode("search", scope, [last["rank"], last["feedback_id"]])
