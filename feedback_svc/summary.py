"""GetFeedbackSummary: aggregates of the feedback in a period, with filters.

SQL here, parameterized; scoring and suggestions are in quality.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import asyncpg

from common.errors import FieldViolation, InvalidArgument
from feedback_svc import store
from feedback_svc.quality import Complaint, Quality, Stats, StoryMeta, quality_scores, suggestions

DEFAULT_DAYS = 30
TOP_PROBLEMS = 10
_NEGATIVE = '$[*] ? (@.polarity == "negative")'


@dataclass(frozen=True)
class Filters:
    start: datetime
    end: datetime  # exclusive
    story_id: str | None = None
    age_group: str | None = None
    platform: str | None = None
    device_type: str | None = None

    @classmethod
    def of(
        cls, start_date: str, end_date: str, story_id: str, age_group: str, platform: str, device_type: str
    ):
        today = datetime.now(UTC).date()
        end_day = date.fromisoformat(end_date) if end_date else today
        start_day = (
            date.fromisoformat(start_date) if start_date else end_day - timedelta(days=DEFAULT_DAYS - 1)
        )
        if start_day > end_day:
            raise InvalidArgument.of([FieldViolation("end_date", "must not be before start_date")])
        return cls(
            datetime.combine(start_day, time(), UTC),
            datetime.combine(end_day + timedelta(days=1), time(), UTC),
            story_id or None,
            age_group or None,
            platform or None,
            device_type or None,
        )

    def where(self, alias: str = "f") -> tuple[str, list]:
        sql = (
            f"{alias}.ts >= $1 AND {alias}.ts < $2"
            f" AND ($3::text IS NULL OR {alias}.story_id = $3)"
            f" AND ($4::text IS NULL OR {alias}.age_group = $4)"
            f" AND ($5::text IS NULL OR {alias}.platform = $5)"
            f" AND ($6::text IS NULL OR {alias}.device_type = $6)"
        )
        return sql, [self.start, self.end, self.story_id, self.age_group, self.platform, self.device_type]


@dataclass
class Summary:
    count: int = 0
    average_rating: float = 0.0
    rating_distribution: list[int] = field(default_factory=lambda: [0] * 5)
    average_sentiment: float = 0.0
    sentiment_distribution: list[int] = field(default_factory=lambda: [0] * 3)
    top_problems: list[tuple[str, int, int]] = field(default_factory=list)
    trend: list[asyncpg.Record] = field(default_factory=list)
    open_alerts: list[asyncpg.Record] = field(default_factory=list)
    quality: list[Quality] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)


async def summarize(pool: asyncpg.Pool, filters: Filters) -> Summary:
    where, args = filters.where()
    out = Summary()
    totals = await pool.fetchrow(
        f"SELECT count(*) AS n, coalesce(avg(rating), 0) AS rating,"
        f" coalesce(avg(sentiment_score), 0) AS sentiment,"
        f" count(*) FILTER (WHERE rating = 1) AS r1, count(*) FILTER (WHERE rating = 2) AS r2,"
        f" count(*) FILTER (WHERE rating = 3) AS r3, count(*) FILTER (WHERE rating = 4) AS r4,"
        f" count(*) FILTER (WHERE rating = 5) AS r5,"
        f" count(*) FILTER (WHERE sentiment_label = 'negative') AS negative,"
        f" count(*) FILTER (WHERE sentiment_label = 'neutral') AS neutral,"
        f" count(*) FILTER (WHERE sentiment_label = 'positive') AS positive FROM feedback f WHERE {where}",
        *args,
    )
    out.count = totals["n"]
    out.average_rating = round(float(totals["rating"]), 3)
    out.average_sentiment = round(float(totals["sentiment"]), 3)
    out.rating_distribution = [totals[f"r{i}"] for i in range(1, 6)]
    out.sentiment_distribution = [totals["negative"], totals["neutral"], totals["positive"]]
    problems = await pool.fetch(
        f"SELECT a->>'aspect' AS aspect, count(*) FILTER (WHERE a->>'polarity' = 'negative') AS negative,"
        f" count(*) FILTER (WHERE a->>'polarity' = 'positive') AS positive"
        f" FROM feedback f, jsonb_array_elements(f.aspects) a WHERE {where}"
        f" GROUP BY 1 ORDER BY 2 DESC, 3 DESC, 1 LIMIT {TOP_PROBLEMS}",
        *args,
    )
    out.top_problems = [(r["aspect"], r["negative"], r["positive"]) for r in problems]
    out.trend = await pool.fetch(
        f"SELECT to_char((f.ts AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day,"
        f" coalesce(f.age_group, '') AS age_group, coalesce(f.platform, '') AS platform, count(*) AS n,"
        f" avg(f.rating) AS rating, coalesce(avg(f.sentiment_score), 0) AS sentiment,"
        f" count(f.sentiment_score) AS sentiments"
        f" FROM feedback f WHERE {where} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        *args,
    )
    out.open_alerts = await store.list_alerts(pool, "open", filters.story_id, 50)
    per_story, comments = await _story_stats(pool, where, args)
    meta = await _story_meta(pool, list(per_story))
    out.quality = quality_scores(per_story, meta)
    complaints = await pool.fetch(
        f"SELECT f.story_id, a->>'aspect' AS aspect, a->>'evidence' AS evidence"
        f" FROM feedback f, jsonb_array_elements(f.aspects) a"
        f" WHERE {where} AND a->>'polarity' = 'negative'",
        *args,
    )
    out.suggestions = suggestions(
        (Complaint(r["story_id"], r["aspect"], r["evidence"]) for r in complaints), comments, meta
    )
    return out


async def _story_stats(pool: asyncpg.Pool, where: str, args: list) -> tuple[dict[str, Stats], dict[str, int]]:
    records = await pool.fetch(
        f"SELECT f.story_id, count(*) AS n, sum(f.rating) AS rating_sum,"
        f" count(f.sentiment_score) AS sentiments, coalesce(sum(f.sentiment_score), 0) AS sentiment_sum,"
        f" count(*) FILTER (WHERE jsonb_path_exists(f.aspects, '{_NEGATIVE}')) AS problems,"
        f" count(*) FILTER (WHERE f.comment <> '') AS comments"
        f" FROM feedback f WHERE {where} GROUP BY f.story_id",
        *args,
    )
    stats = {
        r["story_id"]: Stats(
            r["n"], float(r["rating_sum"]), r["sentiments"], float(r["sentiment_sum"]), r["problems"]
        )
        for r in records
    }
    return stats, {r["story_id"]: r["comments"] for r in records}


async def _story_meta(pool: asyncpg.Pool, story_ids: list[str]) -> dict[str, StoryMeta]:
    records = await pool.fetch(
        "SELECT story_id, universes, characters, theme, combination FROM story_meta"
        " WHERE story_id = ANY($1::text[])",
        story_ids,
    )
    return {
        r["story_id"]: StoryMeta(list(r["universes"]), list(r["characters"]), r["theme"], r["combination"])
        for r in records
    }
