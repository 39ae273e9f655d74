"""Interactions: what an analytics event says about a child's taste, weighted by kind and decayed by age.

One mapping for both paths: the batch read for training (store.interaction_events) and the
live bus subscription (live.py) turn events into the same `Interaction`s.

| event                  | item(s)                                  | weight |
|------------------------|------------------------------------------|--------|
| story_creation         | each universe, each character picked     | 3.0    |
| story_creation         | the theme, the moral lesson              | 2.0    |
| story_creation         | the story itself (creator)               | 1.0    |
| story_view             | the story: reading signals (reading.py)  | chosen by training |
| story_completed        | the story: reading signal `complete`     | chosen by training |
| story_shared           | the story                                | 2.5    |
| recommendation_clicked | the clicked item (recommendation_type)   | 1.5    |
| story_rated (feedback) | the story, by rating: 5, 4, 3 stars      | 3.0, 2.0, 0.5 |

Reading signals (view, reading time, completion, re-read, early abandon; reco_svc/reading.py)
carry an amount and their signal; their weights are the model's (chosen by training's tuning),
applied where a user's vector is built (reading.weight_of). Popularity and trending count them
with reading.DEFAULT (a view 1, a completion 2), the weights they had before.

Decay: weight × 0.5 ** (age_days / HALF_LIFE_DAYS), half-life 30 days, age measured from the
event's own timestamp. A user's value for an item is log1p(sum of decayed weights), so the
tenth view of a story counts for less than the first pick of a character.

Ratings come from the feedback table (batch) and "feedback.submitted" (live) as facts of the
pseudo event type story_rated. The models are implicit-feedback models (more weight = more
taste), so a rating of 1 or 2 stars adds nothing: it is a complaint about one story, which
feedback processing acts on, not a reason to recommend it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storyverse.analytics.v1 import events_pb2

from reco_svc.catalog import CatalogEntry, CatalogSnapshot, key_of, story_from_event
from reco_svc.reading import view_signals

HALF_LIFE_DAYS = 30.0
HISTORY_DAYS = 180  # older events weigh < 2 % and are not read
PICK_WEIGHTS = {"universe": 3.0, "character": 3.0, "theme": 2.0, "moral_lesson": 2.0}
STORY_WEIGHTS = {"story_creation": 1.0, "story_shared": 2.5}
READING_EVENTS = frozenset({"story_view", "story_completed"})
CLICK_WEIGHT = 1.5
RATED = "story_rated"  # not an analytics event type: a feedback row seen as an interaction
RATING_WEIGHTS = {5: 3.0, 4: 2.0, 3: 0.5}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
INTERACTION_EVENT_TYPES = frozenset(
    {"story_creation", *STORY_WEIGHTS, *READING_EVENTS, "recommendation_clicked"}
)


@dataclass(frozen=True, slots=True)
class EventFacts:
    """The fields of an event the engine uses, from a database row or a bus message alike."""

    event_id: str
    user_id: str
    event_type: str
    ts: datetime
    story_id: str = ""
    universes: tuple[str, ...] = ()
    characters: tuple[str, ...] = ()
    theme: str = ""
    moral_lesson: str = ""
    age_group: str = ""
    device_type: str = ""
    recommendation_type: str = ""
    item_id: str = ""
    rating: int = 0  # story_rated only
    duration: float | None = None  # story_view: seconds read
    position: float | None = None  # story_view: how far, in percent of the story

    @classmethod
    def from_row(cls, row) -> EventFacts:  # asyncpg.Record of an event or of a rating
        return cls(
            event_id=row["event_id"],
            user_id=row["user_id"],
            event_type=row["event_type"],
            ts=row["ts"],
            story_id=row["story_id"] or "",
            universes=tuple(row["universes"] or ()),
            characters=tuple(row["characters"] or ()),
            theme=row["theme"] or "",
            moral_lesson=row["moral_lesson"] or "",
            age_group=row["age_group"] or "",
            device_type=row["device_type"] or "",
            recommendation_type=row["recommendation_type"] or "",
            item_id=row["item_id"] or "",
            rating=row.get("rating") or 0,
            duration=row.get("duration"),
            position=row.get("position"),
        )

    @classmethod
    def from_proto(cls, event: events_pb2.Event) -> EventFacts:
        p = event.properties
        return cls(
            event_id=event.event_id,
            user_id=event.user_id,
            event_type=event.event_type,
            ts=parse_ts(event.timestamp),
            story_id=p.story_id,
            universes=tuple(p.universes),
            characters=tuple(p.characters),
            theme=p.theme,
            moral_lesson=p.moral_lesson,
            age_group=p.age_group,
            device_type=p.device_type,
            recommendation_type=p.recommendation_type,
            item_id=p.item_id,
            duration=p.duration if p.HasField("duration") else None,
            position=float(p.position) if p.HasField("position") else None,
        )


def created_story(facts: EventFacts, snapshot: CatalogSnapshot) -> CatalogEntry | None:
    """The story a story_creation event describes (its ages from its parts); None otherwise."""
    if facts.event_type != "story_creation" or not facts.story_id:
        return None
    return story_from_event(
        facts.story_id, facts.user_id, facts.universes, facts.characters, facts.theme,
        facts.moral_lesson, facts.age_group, snapshot,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Interaction:
    user_id: str
    key: str  # "kind:id"
    weight: float  # before decay
    ts: datetime
    event_id: str
    event_type: str = ""
    signal: str = ""  # a reading signal (reading.SIGNALS): weight is its amount
    position: float | None = None  # a view's reading position (percent)


def parse_ts(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def interactions_of(facts: EventFacts) -> list[Interaction]:
    def one(kind: str, item_id: str, weight: float, signal: str = "") -> Interaction:
        return Interaction(
            facts.user_id,
            key_of(kind, item_id),
            weight,
            facts.ts,
            facts.event_id,
            facts.event_type,
            signal,
            facts.position if signal == "view" else None,
        )

    kind = facts.event_type
    found: list[Interaction] = []
    if kind == "story_creation":
        found += [one("universe", u, PICK_WEIGHTS["universe"]) for u in facts.universes]
        found += [one("character", c, PICK_WEIGHTS["character"]) for c in facts.characters]
        if facts.theme:
            found.append(one("theme", facts.theme, PICK_WEIGHTS["theme"]))
        if facts.moral_lesson:
            found.append(one("moral_lesson", facts.moral_lesson, PICK_WEIGHTS["moral_lesson"]))
        if facts.story_id:
            found.append(one("story", facts.story_id, STORY_WEIGHTS[kind]))
    elif kind == "story_view" and facts.story_id:
        found += [one("story", facts.story_id, a, s) for s, a in view_signals(facts.duration, facts.position)]
    elif kind == "story_completed" and facts.story_id:
        found.append(one("story", facts.story_id, 1.0, "complete"))
    elif kind in STORY_WEIGHTS and facts.story_id:
        found.append(one("story", facts.story_id, STORY_WEIGHTS[kind]))
    elif kind == "recommendation_clicked" and facts.recommendation_type and facts.item_id:
        found.append(one(facts.recommendation_type, facts.item_id, CLICK_WEIGHT))
    elif kind == RATED and facts.story_id and facts.rating in RATING_WEIGHTS:
        found.append(one("story", facts.story_id, RATING_WEIGHTS[facts.rating]))
    return found


def decay(weight: float, ts: datetime, now: datetime) -> float:
    return decayed(weight, (now - ts) // MICROSECOND)


def decayed(weight: float, age_us: int) -> float:
    """decay() for an age in whole microseconds: the same float, as timedelta.total_seconds()
    is that integer / 10**6 (serving keeps timestamps as such integers: no datetime per call)."""
    age_days = max(age_us / 1_000_000, 0.0) / 86400.0
    return weight * math.pow(0.5, age_days / HALF_LIFE_DAYS)


def microseconds(moment: datetime) -> int:
    """An aware moment as whole microseconds since the epoch (differences are exact)."""
    return (moment - EPOCH) // MICROSECOND


def compress(total: float) -> float:
    """A user's value for an item from the sum of its decayed weights (0 when it is not above
    0: a negative reading weight, an early abandon, can cancel a view but never go below)."""
    return math.log1p(max(total, 0.0))
