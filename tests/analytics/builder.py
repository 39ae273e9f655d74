"""A small seeded builder of event streams for the report tests.

Every stream gets its own user-id prefix and lives in its own days, so tests sharing
the session database never see each other's events.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from storyverse.analytics.v1 import events_pb2

UNIVERSES = ["dragon-ball", "toy-story", "frozen", "pokemon", "bluey"]
CHARACTERS = ["goku", "woody", "buzz", "elsa", "pikachu", "bingo"]
THEMES = ["friendship", "space", "magic"]
LESSONS = ["teamwork", "honesty", "kindness"]
FEATURES = ["voice_narration", "illustrations", "music"]
AGES = ["3-5", "6-8", "9-12", "13-17"]
DEVICES = ["tablet", "phone", "desktop"]
PLATFORMS = ["ios", "android", "web"]
TYPES = [
    "session_start",
    "page_view",
    "feature_used",
    "story_started",
    "story_creation",
    "story_view",
    "story_shared",
    "click",
]


@dataclass
class Ev:
    """What the reference computations need of an event (mirrors the events table)."""

    event_id: str
    user_id: str
    event_type: str
    ts: datetime
    session_id: str | None = None
    universes: list[str] = field(default_factory=list)
    characters: list[str] = field(default_factory=list)
    theme: str | None = None
    moral_lesson: str | None = None
    creation_time: float | None = None
    device_type: str | None = None
    platform: str | None = None
    age_group: str | None = None
    feature: str | None = None
    page: str | None = None

    def to_proto(self) -> events_pb2.Event:
        e = events_pb2.Event(
            event_id=self.event_id,
            user_id=self.user_id,
            event_type=self.event_type,
            timestamp=self.ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            session_id=self.session_id or "",
        )
        p = e.properties
        p.universes.extend(self.universes)
        p.characters.extend(self.characters)
        for name in ("theme", "moral_lesson", "device_type", "platform", "age_group", "feature", "page"):
            value = getattr(self, name)
            if value:
                setattr(p, name, value)
        if self.creation_time is not None:
            p.creation_time = self.creation_time
        return e


def prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def stream(seed: int, first_day: date, days: int, users: int = 25, per_user: int = 30) -> list[Ev]:
    """Random events of `users` users over `days` days: sessions of a few events each,
    with the properties the reports look at (some left out on purpose)."""
    rng = random.Random(seed)
    tag = prefix()
    out: list[Ev] = []
    for u in range(users):
        user = f"{tag}-u{u}"
        age = rng.choice([*AGES, None])
        device, platform = rng.choice(DEVICES), rng.choice([*PLATFORMS, None])
        start = rng.randrange(days)
        n = rng.randrange(1, per_user)
        session, t = None, None
        for i in range(n):
            if session is None or rng.random() < 0.2:
                session = f"{user}-s{i}" if rng.random() < 0.9 else None
                day = rng.randrange(start, days)
                t = day_start(first_day + timedelta(days=day)) + timedelta(seconds=rng.randrange(0, 80000))
            t = t + timedelta(seconds=rng.randrange(1, 600))
            kind = rng.choice(TYPES)
            ev = Ev(
                f"{user}-e{i}", user, kind, t, session, device_type=device, platform=platform, age_group=age
            )
            if kind == "story_creation":
                ev.universes = rng.sample(UNIVERSES, rng.randrange(0, 3))
                ev.characters = rng.sample(CHARACTERS, rng.randrange(0, 3))
                ev.theme = rng.choice([*THEMES, None])
                ev.moral_lesson = rng.choice([*LESSONS, None])
                ev.creation_time = rng.choice([None, float(rng.randrange(10, 900))])
            if kind == "feature_used":
                ev.feature = rng.choice(FEATURES)
            if kind in ("page_view", "click"):
                ev.page = rng.choice(["home", "create"])
            out.append(ev)
    # Events must not spill past the last day: clamp to it.
    last = day_start(first_day + timedelta(days=days)) - timedelta(seconds=1)
    for ev in out:
        ev.ts = min(ev.ts, last)
    return out


def rows(events: list[Ev]) -> list[tuple]:
    """Rows for analytics_svc.ingestion.store.insert_events (bypassing gRPC, for the property test)."""
    from analytics_svc.ingestion.prepare import to_row

    received = datetime.now(UTC)
    return [to_row(e.to_proto(), received) for e in events]
