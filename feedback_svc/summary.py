"""GetFeedbackSummary: aggregates of the feedback in a period, with filters.

The SQL is in store.py, the parameters are checked in requests.py, scoring and suggestions are in
quality.py; this module puts the parts together.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from feedback_svc import store
from feedback_svc.alerts.desk import alert_dict
from feedback_svc.quality import Complaint, Quality, Stats, StoryMeta, quality_scores, suggestions
from feedback_svc.requests import SummaryFilters

OPEN_ALERTS = 50


@dataclass(frozen=True)
class TrendPoint:
    date: str
    age_group: str
    platform: str
    count: int
    average_rating: float
    average_sentiment: float
    sentiment_count: int


@dataclass
class Summary:
    count: int = 0
    average_rating: float = 0.0
    rating_distribution: list[int] = field(default_factory=lambda: [0] * 5)
    average_sentiment: float = 0.0
    sentiment_distribution: list[int] = field(default_factory=lambda: [0] * 3)
    top_problems: list[tuple[str, int, int]] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)
    open_alerts: list[dict] = field(default_factory=list)
    quality: list[Quality] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)


class Summaries:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def summarize(self, filters: SummaryFilters) -> Summary:
        out = Summary()
        totals = await store.summary_totals(self.pool, filters)
        out.count = totals["n"]
        out.average_rating = round(float(totals["rating"]), 3)
        out.average_sentiment = round(float(totals["sentiment"]), 3)
        out.rating_distribution = [totals[f"r{i}"] for i in range(1, 6)]
        out.sentiment_distribution = [totals["negative"], totals["neutral"], totals["positive"]]
        out.top_problems = await store.top_problems(self.pool, filters)
        out.trend = [
            TrendPoint(
                r["day"],
                r["age_group"],
                r["platform"],
                r["n"],
                round(float(r["rating"]), 3),
                round(float(r["sentiment"]), 3),
                r["sentiments"],
            )
            for r in await store.satisfaction_trend(self.pool, filters)
        ]
        alerts = await store.list_alerts(self.pool, "open", filters.story_id, OPEN_ALERTS)
        out.open_alerts = [alert_dict(r) for r in alerts]
        per_story, comments = await self._story_stats(filters)
        meta = await self._story_meta(list(per_story))
        out.quality = quality_scores(per_story, meta)
        complaints = await store.complaints(self.pool, filters)
        out.suggestions = suggestions(
            (Complaint(r["story_id"], r["aspect"], r["evidence"]) for r in complaints), comments, meta
        )
        return out

    async def _story_stats(self, filters: SummaryFilters) -> tuple[dict[str, Stats], dict[str, int]]:
        records = await store.story_stats(self.pool, filters)
        stats = {
            r["story_id"]: Stats(
                r["n"], float(r["rating_sum"]), r["sentiments"], float(r["sentiment_sum"]), r["problems"]
            )
            for r in records
        }
        return stats, {r["story_id"]: r["comments"] for r in records}

    async def _story_meta(self, story_ids: list[str]) -> dict[str, StoryMeta]:
        return {
            r["story_id"]: StoryMeta(
                list(r["universes"]), list(r["characters"]), r["theme"], r["combination"]
            )
            for r in await store.story_meta(self.pool, story_ids)
        }
