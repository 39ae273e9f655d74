"""The bench data set: realistic events, serialized once, made unique by splicing.

Each template is a serialized event whose event_id, user_id and timestamp are
fixed-width placeholders; a request is made of templates with the placeholders
replaced by values of the same width (a unique id, one of 5,000 users, a
millisecond timestamp of the last ~3 hours), so the length prefixes stay valid
and building a request costs well under a microsecond per event: the load
generator must not eat the cores it is measuring.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from datetime import UTC, datetime, timedelta

from google.protobuf import json_format
from storyverse.analytics.v1 import events_pb2

ID_WIDTH = 24
PLACEHOLDER = "Q" * ID_WIDTH
USER_PLACEHOLDER = "user-UUUUU"
TS_PLACEHOLDER = "2000-01-01T00:00:00.000Z"
_SLOTS = re.compile(
    b"(" + b"|".join(re.escape(p.encode()) for p in (PLACEHOLDER, USER_PLACEHOLDER, TS_PLACEHOLDER)) + b")"
)
EVENT_TYPES = (
    ["page_view"] * 6
    + ["click"] * 4
    + [
        "session_start",
        "session_end",
        "feature_used",
        "story_started",
        "story_creation",
        "story_view",
        "story_completed",
        "recommendation_shown",
    ]
)
UNIVERSES = ["dragon-ball", "toy-story", "frozen", "paw-patrol", "star-wars", "pokemon", "moana", "cars"]
CHARACTERS = ["goku", "woody", "buzz", "elsa", "anna", "chase", "yoda", "pikachu", "maui", "mcqueen"]
THEMES = ["friendship", "courage", "family", "adventure", "kindness"]
DESCRIPTION = (
    "{templates} event templates (page_view/click-heavy mix of 14 types; slugs, enums, numbers; one in "
    "four with allow-listed extras), each sent with a unique event_id, one of 5,000 user ids and a "
    "millisecond timestamp of the last 3 hours"
)


def templates(count: int = 64, seed: int = 7) -> list[events_pb2.Event]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        kind = rng.choice(EVENT_TYPES)
        props: dict[str, object] = {
            "device_type": rng.choice(["tablet", "phone", "desktop"]),
            "platform": rng.choice(["ios", "android", "web"]),
            "age_group": rng.choice(["3-5", "6-8", "9-12"]),
            "app_version": f"3.{rng.randint(0, 9)}.{rng.randint(0, 20)}",
        }
        if kind in ("page_view", "click"):
            props["page"] = rng.choice(["home", "library", "create/universe", "create/characters"])
        if kind.startswith("story"):
            props["story_id"] = f"story-{rng.randint(1, 99999)}"
            props["universes"] = rng.sample(UNIVERSES, rng.randint(1, 2))
            props["characters"] = rng.sample(CHARACTERS, rng.randint(1, 3))
            props["theme"] = rng.choice(THEMES)
            props["moral_lesson"] = "teamwork"
        if kind == "story_creation":
            props["creation_time"] = round(rng.uniform(30, 900), 1)
        if kind == "feature_used":
            props["feature"] = rng.choice(["voice_narration", "ai_illustration"])
        if rng.random() < 0.25:
            props["extras"] = {"language": "en", "pages": rng.randint(4, 20)}
        data = {
            "event_id": PLACEHOLDER,
            "user_id": USER_PLACEHOLDER,
            "timestamp": TS_PLACEHOLDER,
            "event_type": kind,
            "session_id": f"session-{rng.randint(1, 20000)}",
            "properties": props,
        }
        out.append(json_format.Parse(json.dumps(data), events_pb2.Event()))
    return out


class IdSource:
    """Unique, fixed-width event ids (a run prefix and a counter), users and timestamps."""

    def __init__(self, run: str, seed: int = 7) -> None:
        self.prefix = f"b{run}-"
        self.digits = ID_WIDTH - len(self.prefix)
        self.next = 0
        rng = random.Random(seed)
        now = datetime.now(UTC)
        users = [f"user-{rng.randint(1, 5000):05d}".encode() for _ in range(20_000)]
        stamps = [
            (now - timedelta(milliseconds=rng.randint(0, 3 * 3600 * 1000)))
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
            .encode()
            for _ in range(20_000)
        ]
        self.users = itertools.cycle(users)
        self.stamps = itertools.cycle(stamps)

    def take(self) -> bytes:
        self.next += 1
        return f"{self.prefix}{self.next:0{self.digits}d}".encode()

    def fill(self, slot: bytes) -> bytes:
        if slot[0] == 81:  # "Q": the event id
            return self.take()
        if slot[0] == 117:  # "u": the user
            return next(self.users)
        return next(self.stamps)


def _split(body: bytes) -> list[bytes]:
    """Literal bytes and placeholders, alternating (placeholders at odd positions)."""
    return _SLOTS.split(body)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


class ProtoRequests:
    """Serialized RecordEventRequest / RecordEventsRequest bodies (both: field 1 = event(s))."""

    def __init__(self, events: list[events_pb2.Event], ids: IdSource) -> None:
        self.ids = ids
        self.parts = []
        for event in events:
            body = event.SerializeToString()
            parts = _split(body)
            parts[0] = b"\x0a" + _varint(len(body)) + parts[0]
            self.parts.append(parts)
        self.cursor = 0

    def build(self, size: int) -> bytes:
        chunks = []
        parts, n = self.parts, len(self.parts)
        fill = self.ids.fill
        for _ in range(size):
            template = parts[self.cursor % n]
            self.cursor += 1
            for i, part in enumerate(template):
                chunks.append(fill(part) if i % 2 else part)
        return b"".join(chunks)


class JsonRequests:
    """HTTP gateway bodies: one event as JSON, or {"events": [...]}."""

    def __init__(self, events: list[events_pb2.Event], ids: IdSource) -> None:
        self.ids = ids
        self.parts = []
        for event in events:
            text = json_format.MessageToJson(event, preserving_proto_field_name=True, indent=None)
            self.parts.append(_split(text.encode()))
        self.cursor = 0

    def one(self) -> bytes:
        template = self.parts[self.cursor % len(self.parts)]
        self.cursor += 1
        fill = self.ids.fill
        return b"".join(fill(part) if i % 2 else part for i, part in enumerate(template))

    def build(self, size: int) -> bytes:
        if size == 1:
            return self.one()
        return b'{"events": [' + b", ".join(self.one() for _ in range(size)) + b"]}"
