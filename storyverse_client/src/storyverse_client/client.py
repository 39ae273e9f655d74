"""Typed helpers for recommendations and feedback, over either transport.

client = Client(HttpTransport("http://127.0.0.1:8080"))
for lst in client.recommend("user-789012", age_group="6-8", types=["universe", "character"]):
    print(lst.recommendation_type, [item.name for item in lst.items])
receipt = client.submit_feedback("user-789012", "story-123456", rating=5, comment="Loved it")
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storyverse_client.tracker import Tracker, now_rfc3339
from storyverse_client.transport import SendError


@dataclass(frozen=True)
class RecommendedItem:
    id: str
    name: str
    score: float
    reason: str
    kind: str
    universes: tuple[str, ...]
    min_age: int
    max_age: int

    @classmethod
    def from_json(cls, data: dict) -> RecommendedItem:
        return cls(
            id=data.get("id", ""),
            name=data.get("name", ""),
            score=float(data.get("score", 0.0)),
            reason=data.get("reason", ""),
            kind=data.get("kind", ""),
            universes=tuple(data.get("universes", ())),
            min_age=int(data.get("min_age", 0)),
            max_age=int(data.get("max_age", 0)),
        )


@dataclass(frozen=True)
class RecommendationList:
    recommendation_type: str
    items: tuple[RecommendedItem, ...]
    model_version: str
    variant: str
    request_id: str

    @classmethod
    def from_json(cls, data: dict) -> RecommendationList:
        return cls(
            recommendation_type=data.get("recommendation_type", ""),
            items=tuple(RecommendedItem.from_json(item) for item in data.get("items", ())),
            model_version=data.get("model_version", ""),
            variant=data.get("variant", ""),
            request_id=data.get("request_id", ""),
        )


@dataclass(frozen=True)
class FeedbackReceipt:
    feedback_id: str
    created: bool  # False: this feedback_id was stored before (a replay)
    redacted: bool  # contact details were removed from the comment


class Client:
    """Recommendations and feedback through `transport` (HttpTransport or GrpcTransport);
    `tracker()` gives a Tracker on the same transport. Calls that fail for a passing reason
    (SendError.retryable) are tried `attempts` times in all; others raise SendError at once."""

    def __init__(self, transport: Any, *, attempts: int = 3, backoff: float = 0.2) -> None:
        self.transport = transport
        self.attempts = attempts
        self.backoff = backoff

    def recommend(
        self,
        user_id: str,
        age_group: str,
        *,
        types: Sequence[str] = ("universe", "character", "theme"),
        limit: int = 5,
        current_story_id: str | None = None,
        selected_universes: Sequence[str] = (),
        selected_characters: Sequence[str] = (),
        previous_themes: Sequence[str] = (),
        device_type: str | None = None,
    ) -> list[RecommendationList]:
        context: dict[str, Any] = {"age_group": age_group}
        for name, value in (
            ("current_story_id", current_story_id),
            ("selected_universes", list(selected_universes)),
            ("selected_characters", list(selected_characters)),
            ("previous_themes", list(previous_themes)),
            ("device_type", device_type),
        ):
            if value:
                context[name] = value
        request = {
            "user_id": user_id,
            "context": context,
            "recommendation_types": list(types),
            "limit": limit,
        }
        reply = self._retrying(self.transport.recommend, request)
        return [RecommendationList.from_json(item) for item in reply.get("lists", ())]

    def submit_feedback(
        self,
        user_id: str,
        story_id: str,
        rating: int,
        *,
        comment: str | None = None,
        categories: Sequence[str] = (),
        feedback_id: str | None = None,
        timestamp: str | None = None,
        **fields: Any,
    ) -> FeedbackReceipt:
        """Submit one feedback entry; retried with the same feedback_id (stored once)."""
        entry: dict[str, Any] = {
            "feedback_id": feedback_id or f"fb-{uuid.uuid4().hex}",
            "user_id": user_id,
            "story_id": story_id,
            "timestamp": timestamp or now_rfc3339(),
            "rating": rating,
            **fields,
        }
        if comment:
            entry["comment"] = comment
        if categories:
            entry["categories"] = list(categories)
        reply = self._retrying(self.transport.submit_feedback, entry)
        return FeedbackReceipt(
            feedback_id=reply.get("feedback_id", entry["feedback_id"]),
            created=bool(reply.get("created", False)),
            redacted=bool(reply.get("redacted", False)),
        )

    def tracker(self, **options: Any) -> Tracker:
        return Tracker(self.transport, **options)

    def close(self) -> None:
        self.transport.close()

    def _retrying(self, call: Any, body: dict) -> dict:
        for attempt in range(1, self.attempts + 1):
            try:
                return call(body)
            except SendError as exc:
                if not exc.retryable or attempt == self.attempts:
                    raise
                time.sleep(max(exc.retry_after or 0.0, self.backoff * 2 ** (attempt - 1)))
        raise AssertionError("unreachable")
