"""Turning incoming events into rows, or into rejections with a reason.

Pure domain logic: no I/O. The contract's rules (common.validation) are applied
to each event on its own, then the checks the rules cannot express: the time
window and the allow-list of free-form extras (no direct identifiers stored).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from google.protobuf import json_format
from storyverse.analytics.v1 import events_pb2

from common.pii import contact_detail_in
from common.validation import parse_rfc3339, validate

MAX_FUTURE = timedelta(minutes=5)
# StoryVerse did not exist before this; older timestamps are clock or client bugs.
EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)
MAX_EXTRA_STRING = 200
# Keys allowed in properties.extras. Anything that could identify a child or a
# parent (names, emails, addresses, phone numbers) is deliberately absent.
ALLOWED_EXTRAS = frozenset(
    {
        "language",
        "story_length",
        "pages",
        "narration_voice",
        "illustration_style",
        "screen",
        "button",
        "source",
        "tutorial_step",
        "network",
        "os_version",
        "latency_ms",
        "retry",
    }
)
# Typed columns of the events table; the other known properties go to `props`.
COLUMNS = (
    "event_id",
    "user_id",
    "session_id",
    "event_type",
    "ts",
    "received_at",
    "story_id",
    "universes",
    "characters",
    "theme",
    "moral_lesson",
    "creation_time",
    "device_type",
    "platform",
    "age_group",
    "feature",
    "props",
)
_COLUMN_PROPERTIES = frozenset(
    {
        "story_id",
        "universes",
        "characters",
        "theme",
        "moral_lesson",
        "creation_time",
        "device_type",
        "platform",
        "age_group",
        "feature",
    }
)


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int
    event_id: str
    field: str
    reason: str
    payload: str  # the raw event as JSON, kept in failed_events


@dataclass
class Prepared:
    rows: list[tuple] = field(default_factory=list)
    # Position in the request of each row, to report back per event.
    positions: list[int] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    # Events repeated within the same request (same event_id): stored once.
    repeated_in_request: int = 0


def prepare(events: list[events_pb2.Event], received_at: datetime) -> Prepared:
    prepared = Prepared()
    seen: set[str] = set()
    for index, event in enumerate(events):
        problem = check(event, received_at)
        if problem is not None:
            name, reason = problem
            payload = raw_json(_without_extras(event) if name.startswith(_EXTRAS) else event)
            event_id, name, reason = (_storable(t) for t in (event.event_id, name, reason))
            prepared.rejections.append(Rejection(index, event_id, name, reason, payload))
            continue
        if event.event_id in seen:
            prepared.repeated_in_request += 1
            continue
        seen.add(event.event_id)
        prepared.rows.append(to_row(event, received_at))
        prepared.positions.append(index)
    return prepared


def check(event: events_pb2.Event, now: datetime) -> tuple[str, str] | None:
    """The first problem of an event as (field, reason), or None when it is valid."""
    violations = validate(event)
    if violations:
        return violations[0].field, violations[0].description
    ts = parse_rfc3339(event.timestamp)
    if ts is None:  # pragma: no cover - the rfc3339 rule already caught it
        return "timestamp", "must be an RFC 3339 timestamp"
    if ts - now > MAX_FUTURE:
        return "timestamp", "is more than 5 minutes in the future"
    if ts < EARLIEST:
        return "timestamp", "is before 2020-01-01"
    extras = event.properties.extras
    for key, value in extras.fields.items():
        if key not in ALLOWED_EXTRAS:  # also refuses keys with control characters
            return f"properties.extras.{key}", "is not an allowed property (see docs/events.md)"
        kind = value.WhichOneof("kind")
        if kind in ("struct_value", "list_value"):
            return f"properties.extras.{key}", "must be a string, number or boolean"
        if kind == "string_value" and len(value.string_value) > MAX_EXTRA_STRING:
            return f"properties.extras.{key}", f"must be at most {MAX_EXTRA_STRING} characters"
        if kind == "string_value" and _CONTROL.search(value.string_value):
            return f"properties.extras.{key}", "must not contain control characters"
        if kind == "string_value" and (found := contact_detail_in(value.string_value)):
            return f"properties.extras.{key}", f"must not contain {found} (no contact details are stored)"
    return None


def to_row(event: events_pb2.Event, received_at: datetime) -> tuple:
    p = event.properties
    props: dict[str, object] = {}
    for fd, value in p.ListFields():
        if fd.name in _COLUMN_PROPERTIES:
            continue
        if fd.name == "extras":
            props["extras"] = json_format.MessageToDict(value)
        else:
            props[fd.name] = value
    return (
        event.event_id,
        event.user_id,
        event.session_id or None,
        event.event_type,
        parse_rfc3339(event.timestamp),
        received_at,
        p.story_id or None,
        list(p.universes) or None,
        list(p.characters) or None,
        p.theme or None,
        p.moral_lesson or None,
        p.creation_time if p.HasField("creation_time") else None,
        p.device_type or None,
        p.platform or None,
        p.age_group or None,
        p.feature or None,
        json.dumps(props) if props else None,
    )


_EXTRAS = "properties.extras."
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _without_extras(event: events_pb2.Event) -> events_pb2.Event:
    """The event minus its extras: refused extras may be exactly what must not be stored
    (a name, an email), so the failed-events table keeps the rest and the reason only."""
    copy = events_pb2.Event()
    copy.CopyFrom(event)
    copy.properties.ClearField("extras")
    return copy


def _storable(text: str) -> str:
    """PostgreSQL text cannot hold NUL; a rejected event's id or extras key may (found by fuzzing)."""
    return text.replace("\x00", "\ufffd")


def raw_json(event: events_pb2.Event) -> str:
    text = json_format.MessageToJson(event, preserving_proto_field_name=True, indent=None)
    # PostgreSQL's jsonb cannot hold NUL: one such rejected event used to fail the whole
    # group-commit transaction (found by schemathesis). Keep a visible stand-in instead.
    return text.replace("\\u0000", "\\ufffd")
