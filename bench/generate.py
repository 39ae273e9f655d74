"""Seeded generator of realistic StoryVerse event streams for the benchmark.

Users sign up over the period, come back on a decaying number of days, and each
active day holds one to three sessions shaped like the app's flow: session_start,
page views, feature use, story_started → story_creation → story_view/shared,
session_end. Rows come out in ingest.COLUMNS order plus stored_at.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

UNIVERSES = [
    "dragon-ball",
    "toy-story",
    "frozen",
    "pokemon",
    "star-wars",
    "paw-patrol",
    "minecraft",
    "harry-potter",
    "peppa-pig",
    "bluey",
    "cars",
    "moana",
]
CHARACTERS = [
    "goku",
    "woody",
    "buzz",
    "elsa",
    "anna",
    "pikachu",
    "yoda",
    "chase",
    "steve",
    "harry",
    "peppa",
    "bluey",
    "bingo",
    "mcqueen",
    "moana",
    "maui",
    "vegeta",
    "olaf",
]
THEMES = ["friendship", "adventure", "courage", "family", "nature", "space", "magic", "sports"]
LESSONS = ["teamwork", "honesty", "kindness", "patience", "sharing", "perseverance"]
FEATURES = ["voice_narration", "illustrations", "read_aloud", "templates", "music"]
PAGES = ["home", "library", "create", "profile", "settings"]
AGES = ["3-5", "6-8", "9-12", "13-17"]
CONTEXTS = [
    ("tablet", "ios"),
    ("phone", "ios"),
    ("tablet", "android"),
    ("phone", "android"),
    ("desktop", "web"),
    ("desktop", "windows"),
    ("tv", "other"),
]


def events(n_users: int, first_day: date, days: int, seed: int = 7) -> Iterator[tuple]:
    """Yield event rows day by day, each day in time order (as ingestion stores them, so
    the BRIN index on ts works as in production)."""
    rng = random.Random(seed)
    start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
    by_day: list[list[tuple]] = [[] for _ in range(days)]
    for u in range(n_users):
        user = (f"u{u:07d}", rng.choice(AGES), *rng.choice(CONTEXTS))
        signup = int(days * rng.random() ** 1.3)
        loyalty = rng.random()
        by_day[signup].append(user)
        for d in range(signup + 1, days):
            if rng.random() < 0.35 * loyalty * (0.97 ** (d - signup)) + 0.02:
                by_day[d].append(user)
    for d, users in enumerate(by_day):
        rows = []
        for user, age, device, platform in users:
            for s in range(rng.choice((1, 1, 1, 2, 2, 3))):
                t = start + timedelta(days=d, seconds=rng.randrange(6 * 3600, 21 * 3600) + s * 7200)
                rows.extend(_session(rng, user, f"{user}-{d}-{s}", t, age, device, platform))
        rows.sort(key=lambda row: row[4])
        yield from rows


def _session(rng, user, session, t, age, device, platform) -> Iterator[tuple]:
    seq = [("session_start", {})]
    seq += [("page_view", {"page": rng.choice(PAGES)}) for _ in range(rng.randrange(1, 6))]
    if rng.random() < 0.5:
        seq.append(("feature_used", {"feature": rng.choice(FEATURES)}))
    for _ in range(rng.choice((0, 1, 1, 2))):
        seq.append(("story_started", {}))
        if rng.random() < 0.7:
            seq.append(("story_creation", _story(rng)))
            seq.append(("story_view", {}))
            if rng.random() < 0.25:
                seq.append(("story_shared", {}))
        seq.append(("click", {"page": "create"}))
    if rng.random() < 0.3:
        seq.append(("recommendation_shown", {}))
        if rng.random() < 0.3:
            seq.append(("recommendation_clicked", {}))
    seq.append(("session_end", {}))
    for i, (kind, props) in enumerate(seq):
        t += timedelta(seconds=rng.randrange(5, 240))
        received = t + timedelta(milliseconds=rng.randrange(50, 3000))
        stored = received + timedelta(milliseconds=rng.randrange(1, 40))
        extra = {k: v for k, v in props.items() if k == "page"}
        yield (
            f"{session}-{i}",
            user,
            session,
            kind,
            t,
            received,
            props.get("story_id"),
            props.get("universes"),
            props.get("characters"),
            props.get("theme"),
            props.get("moral_lesson"),
            props.get("creation_time"),
            device,
            platform,
            age,
            props.get("feature"),
            json.dumps(extra) if extra else None,
            stored,
        )


def _story(rng) -> dict:
    return {
        "story_id": f"s{rng.getrandbits(48):x}",
        "universes": rng.sample(UNIVERSES, rng.choice((1, 2, 2, 3))),
        "characters": rng.sample(CHARACTERS, rng.randrange(1, 4)),
        "theme": rng.choice(THEMES),
        "moral_lesson": rng.choice(LESSONS),
        "creation_time": round(rng.lognormvariate(5.5, 0.6), 1),
    }
