"""Turning incoming events into rows, or into rejections with a reason.

Pure domain logic: no I/O. The contract's rules (common.validation) are applied
to each event on its own, then the checks the rules cannot express: the time
window and the allow-list of free-form extras (no direct identifiers stored).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from google.protobuf import json_format, struct_pb2
from storyverse.analytics.v1 import events_pb2

from common.pii import contact_detail_in
from common.validation import parse_rfc3339, validator_for

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


_STRING_PROPERTIES = ("page", "recommendation_type", "item_id")
_LATE_STRING_PROPERTIES = ("experiment_key", "variant", "error_code", "app_version")
_validate_event = validator_for(events_pb2.Event.DESCRIPTOR)


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
    rows, positions = prepared.rows, prepared.positions
    for index, event in enumerate(events):
        ts, problem = _check(event, received_at)
        if problem is not None:
            name, reason = problem
            payload = raw_json(_without_extras(event) if name.startswith(_EXTRAS) else event)
            event_id, name, reason = (_storable(t) for t in (event.event_id, name, reason))
            prepared.rejections.append(Rejection(index, event_id, name, reason, payload))
            continue
        event_id = event.event_id
        if event_id in seen:
            prepared.repeated_in_request += 1
            continue
        seen.add(event_id)
        rows.append(_row(event, received_at, ts))
        positions.append(index)
    return prepared


def check(event: events_pb2.Event, now: datetime) -> tuple[str, str] | None:
    """The first problem of an event as (field, reason), or None when it is valid."""
    return _check(event, now)[1]


def _check(event: events_pb2.Event, now: datetime) -> tuple[datetime | None, tuple[str, str] | None]:
    """(timestamp, first problem): the parsed timestamp travels on to the row."""
    violations = _validate_event(event, "")
    if violations:
        return None, (violations[0].field, violations[0].description)
    ts = parse_rfc3339(event.timestamp)  # parsed by the rule just before: a memo hit
    if ts is None:  # pragma: no cover - the rfc3339 rule already caught it
        return None, ("timestamp", "must be an RFC 3339 timestamp")
    if ts - now > MAX_FUTURE:
        return ts, ("timestamp", "is more than 5 minutes in the future")
    if ts < EARLIEST:
        return ts, ("timestamp", "is before 2020-01-01")
    p = event.properties
    if p.HasField("extras"):
        for key, value in p.extras.fields.items():
            if key not in ALLOWED_EXTRAS:  # also refuses keys with control characters
                return ts, (f"properties.extras.{key}", "is not an allowed property (see docs/events.md)")
            kind = value.WhichOneof("kind")
            if kind in ("struct_value", "list_value"):
                return ts, (f"properties.extras.{key}", "must be a string, number or boolean")
            if kind == "string_value" and len(value.string_value) > MAX_EXTRA_STRING:
                return ts, (f"properties.extras.{key}", f"must be at most {MAX_EXTRA_STRING} characters")
            if kind == "string_value" and _CONTROL.search(value.string_value):
                return ts, (f"properties.extras.{key}", "must not contain control characters")
            if kind == "string_value" and (found := contact_detail_in(value.string_value)):
                return ts, (
                    f"properties.extras.{key}",
                    f"must not contain {found} (no contact details are stored)",
                )
    return ts, None


def to_row(event: events_pb2.Event, received_at: datetime) -> tuple:
    return _row(event, received_at, parse_rfc3339(event.timestamp))


def _row(event: events_pb2.Event, received_at: datetime, ts: datetime | None) -> tuple:
    """The row of a checked event (see _props_json)."""
    p = event.properties
    universes = p.universes
    characters = p.characters
    return (
        event.event_id,
        event.user_id,
        event.session_id or None,
        event.event_type,
        ts,
        received_at,
        p.story_id or None,
        list(universes) if universes else None,
        list(characters) if characters else None,
        p.theme or None,
        p.moral_lesson or None,
        p.creation_time if p.HasField("creation_time") else None,
        p.device_type or None,
        p.platform or None,
        p.age_group or None,
        p.feature or None,
        _props_json(p),
    )


def _props_json(p: events_pb2.EventProperties) -> str | None:
    """json.dumps of the other known properties in field-number order (as ListFields gave
    them) plus the extras, written directly: the rules allow only ASCII letters, digits and
    `_/.:+-` in these strings (nothing JSON escapes) and finite numbers, so formatting
    them is enough. Only for checked events; the extras go through the JSON encoder."""
    parts = []
    for name in _STRING_PROPERTIES:
        value = getattr(p, name)
        if value:
            parts.append(f'"{name}": "{value}"')
    if p.HasField("position"):
        parts.append(f'"position": {p.position}')
    for name in _LATE_STRING_PROPERTIES:
        value = getattr(p, name)
        if value:
            parts.append(f'"{name}": "{value}"')
    if p.HasField("duration"):
        parts.append(f'"duration": {p.duration!r}')  # repr: what json writes for a float
    if p.HasField("extras"):
        parts.append(f'"extras": {_dumps(_extras(p.extras))}')
    return "{" + ", ".join(parts) + "}" if parts else None


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


_dumps = json.JSONEncoder().encode  # json.dumps' default settings, without its per-call argument checks


def _extras(extras: struct_pb2.Struct) -> dict[str, object]:
    """json_format.MessageToDict of a checked Struct (flat scalars only), at a tenth of its cost."""
    out: dict[str, object] = {}
    for key in extras.fields:
        value = extras.fields[key]
        kind = value.WhichOneof("kind")
        if kind == "number_value":
            number = value.number_value
            if not math.isfinite(number):  # as MessageToDict: JSON has no NaN or Infinity
                raise ValueError(f"Fail to serialize {number} for Value.number_value")
            out[key] = number
        elif kind == "string_value":
            out[key] = value.string_value
        elif kind == "bool_value":
            out[key] = value.bool_value
        elif kind in ("struct_value", "list_value"):  # pragma: no cover - check() refuses them
            out[key] = json_format.MessageToDict(value)
        else:
            out[key] = None
    return out


def raw_json(event: events_pb2.Event) -> str:
    text = json_format.MessageToJson(event, preserving_proto_field_name=True, indent=None)
    # PostgreSQL's jsonb cannot hold NUL: one such rejected event used to fail the whole
    # group-commit transaction (found by schemathesis). Keep a visible stand-in instead.
    return text.replace("\\u0000", "\\ufffd")
