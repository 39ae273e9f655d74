"""Reading feedback: a story's feedback newest first, and full-text search.

Both use keyset pagination (the sort key of the last row in an opaque token, paging.py), so
a page costs the same however deep it is and rows added meanwhile do not shift pages. Search
uses PostgreSQL full text (store.py): websearch_to_tsquery (words, "quoted phrases", OR,
-excluded), the GIN index on the generated `search` column, ts_rank for ranking and
ts_headline for snippets with <b>...</b>.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from feedback_svc import paging, store
from feedback_svc.requests import SearchFilters
from feedback_svc.times import rfc3339


@dataclass(frozen=True)
class Entry:
    feedback_id: str
    user_id: str
    story_id: str
    timestamp: str
    rating: int
    comment: str
    categories: list[str]
    sentiment_score: float
    child_age: int
    device_type: str
    platform: str
    sentiment_label: str
    aspects: list[dict]
    parts: list[dict]
    analyzed: bool


@dataclass(frozen=True)
class Hit:
    entry: Entry
    rank: float
    snippet: str


def _json(value: object) -> list:
    return json.loads(value) if isinstance(value, str) else value


def entry_of(r: asyncpg.Record) -> Entry:
    return Entry(
        feedback_id=r["feedback_id"],
        user_id=r["user_id"],
        story_id=r["story_id"],
        timestamp=rfc3339(r["ts"]),
        rating=r["rating"],
        comment=r["comment"],
        categories=list(r["categories"]),
        sentiment_score=r["sentiment_score"] or 0.0,
        child_age=r["child_age"] or 0,
        device_type=r["device_type"] or "",
        platform=r["platform"] or "",
        sentiment_label=r["sentiment_label"] or "",
        aspects=_json(r["aspects"]),
        parts=_json(r["parts"]),
        analyzed=r["analyzed"],
    )


class FeedbackReader:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def story_feedback(self, story_id: str, size: int, token: str) -> tuple[list[Entry], str]:
        position = paging.decode(token, "story", story_id)
        after = (datetime.fromisoformat(position[0]), position[1]) if position else None
        records = await store.story_feedback(self.pool, story_id, after, size + 1)
        entries = [entry_of(r) for r in records[:size]]
        if len(records) <= size:
            return entries, ""
        last = records[size - 1]
        return entries, paging.encode("story", story_id, [last["ts"].isoformat(), last["feedback_id"]])

    async def search(self, filters: SearchFilters, size: int, token: str) -> tuple[list[Hit], str]:
        scope = filters.fingerprint()
        position = paging.decode(token, "search", scope)
        after = (float(position[0]), str(position[1])) if position else None
        records = await store.search_feedback(self.pool, filters, after, size + 1)
        hits = [Hit(entry_of(r), r["rank"], r["snippet"]) for r in records[:size]]
        if len(records) <= size:
            return hits, ""
        last = records[size - 1]
        return hits, paging.encode("search", scope, [last["rank"], last["feedback_id"]])
