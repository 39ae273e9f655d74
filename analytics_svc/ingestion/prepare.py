"""Turning incoming events into rows, or into rejections with a reason.

Pure domain logic: no I/O. The contract's rules (common.validation) are applied
to each event on its own, then the checks the rules cannot express: the time
window and the allow-list of free-form extras (no direct identifiers stored).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from google.protobuf import json_format, struct_pb2
from storyverse.analytics.v1 import events_pb2

from analytics_svc.ingestion.event_rows import PROPS, RECEIVED_AT, EventRowReader
from common.pii import contact_detail_in
from common.validation import reader_for, validator_for

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
# What prepare reads of an event, in one pass with the contract's rules (common.validation.reader_for):
# the columns' fields in COLUMNS order, then the other properties in field-number order (props).
_READ = (
    "event_id",
    "user_id",
    "session_id",
    "event_type",
    "timestamp",
    *(f"properties.{name}" for name in COLUMNS[6:16]),
    *(f"properties.{name}" for name in _STRING_PROPERTIES),
    "properties.position",
    *(f"properties.{name}" for name in _LATE_STRING_PROPERTIES),
    "properties.duration",
    "properties.model_version",
    "properties.extras",
)
_read_event = reader_for(events_pb2.Event.DESCRIPTOR, _READ)


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
    # Positions of events repeated within the same request (same event_id): stored once.
    repeated_positions: list[int] = field(default_factory=list)


def prepare(
    events: Sequence[events_pb2.Event], received_at: datetime, wire: Callable[[], bytes] | None = None
) -> Prepared:
    """Rows and rejections of events. wire, when given, returns a serialized message whose field 1
    holds the same events (e.g. the request's SerializeToString): where the compiled reader is
    built it reads the valid events from those bytes, and the Python reader sees only the rest."""
    prepared = Prepared()
    seen: set[str] = set()
    rows, positions = prepared.rows, prepared.positions
    fast = None
    if wire is not None and _WIRE_READER is not None:
        fast = _WIRE_READER.rows(wire(), received_at, EARLIEST, received_at + MAX_FUTURE)
        if fast is not None and len(fast) != len(events):  # not these events: the Python reader alone
            fast = None
    for index in range(len(events)):
        row = fast[index] if fast is not None else None
        if row is None:
            row = _checked_row(events[index], index, received_at, prepared)
            if row is None:
                continue
        event_id = row[0]
        if event_id in seen:
            prepared.repeated_positions.append(index)
            continue
        seen.add(event_id)
        rows.append(row)
        positions.append(index)
    return prepared


def _checked_row(
    event: events_pb2.Event, index: int, received_at: datetime, prepared: Prepared
) -> tuple | None:
    """The Python reader: the row of a valid event, or None with its rejection recorded."""
    values = _read_event(event)
    problem = extras = None
    if values is None:
        problem = _violation(event)
    elif (ts := values[4]) > received_at + MAX_FUTURE or ts < EARLIEST:
        problem = _outside_window(ts, received_at)
    elif (extras := values[25]) is not None:
        problem = _extras_problem(extras)
    if problem is None:
        return _row(values, received_at, None if extras is None else _extras_json(extras))
    name, reason = problem
    payload = raw_json(_without_extras(event) if name.startswith(_EXTRAS) else event)
    event_id, name, reason = (_storable(t) for t in (event.event_id, name, reason))
    prepared.rejections.append(Rejection(index, event_id, name, reason, payload))
    return None


def check(event: events_pb2.Event, now: datetime) -> tuple[str, str] | None:
    """The first problem of an event as (field, reason), or None when it is valid."""
    rejections = prepare([event], now).rejections
    return (rejections[0].field, rejections[0].reason) if rejections else None


def to_row(event: events_pb2.Event, received_at: datetime) -> tuple:
    """The row of an event that the contract's rules accept (the time window is not checked)."""
    values = _read_event(event)
    if values is None:
        raise ValueError(f"not a valid event: {_validate_event(event, '')}")
    return _row(values, received_at, _extras_json(values[-1]) if values[-1] is not None else None)


def _violation(event: events_pb2.Event) -> tuple[str, str]:
    """The first rule violation of an event the reader refused (validate says which)."""
    violation = _validate_event(event, "")[0]
    return violation.field, violation.description


def _outside_window(ts: datetime, now: datetime) -> tuple[str, str]:
    if ts > now + MAX_FUTURE:
        return "timestamp", "is more than 5 minutes in the future"
    return "timestamp", "is before 2020-01-01"


def _extras_problem(extras: struct_pb2.Struct) -> tuple[str, str] | None:
    fields = extras.fields
    for key in fields:
        if key not in ALLOWED_EXTRAS:  # also refuses keys with control characters
            return f"properties.extras.{key}", "is not an allowed property (see docs/events.md)"
        value = fields[key]
        kind = value.WhichOneof("kind")
        if kind in ("struct_value", "list_value"):
            return f"properties.extras.{key}", "must be a string, number or boolean"
        if kind == "number_value" and not math.isfinite(value.number_value):  # no JSON for it
            return f"properties.extras.{key}", "must be a finite number"
        if kind == "string_value":
            text = value.string_value
            if len(text) > MAX_EXTRA_STRING:
                return f"properties.extras.{key}", f"must be at most {MAX_EXTRA_STRING} characters"
            if _CONTROL.search(text):
                return f"properties.extras.{key}", "must not contain control characters"
            if found := contact_detail_in(text):
                return f"properties.extras.{key}", f"must not contain {found} (no contact details are stored)"
    return None


def _row(values: tuple, received_at: datetime, extras_json: str | None) -> tuple:
    """The row of a checked event from what _read_event read (see _READ); props is json.dumps
    of the other known properties in field-number order plus the extras, written directly:
    the rules allow only ASCII letters, digits and `_/.:+-` in these strings (nothing JSON
    escapes) and finite numbers, so formatting them is enough."""
    (
        event_id, user_id, session_id, event_type, ts,
        story_id, universes, characters, theme, moral_lesson, creation_time, device_type, platform,
        age_group, feature,
        page, recommendation_type, item_id, position, experiment_key, variant, error_code, app_version,
        duration, model_version, _extras_struct,
    ) = values  # fmt: skip
    parts = []
    if page:
        parts.append(f'"page": "{page}"')
    if recommendation_type:
        parts.append(f'"recommendation_type": "{recommendation_type}"')
    if item_id:
        parts.append(f'"item_id": "{item_id}"')
    if position is not None:
        parts.append(f'"position": {position}')
    if experiment_key:
        parts.append(f'"experiment_key": "{experiment_key}"')
    if variant:
        parts.append(f'"variant": "{variant}"')
    if error_code:
        parts.append(f'"error_code": "{error_code}"')
    if app_version:
        parts.append(f'"app_version": "{app_version}"')
    if duration is not None:
        parts.append(f'"duration": {duration!r}')  # repr: what json writes for a float
    if model_version:
        parts.append(f'"model_version": "{model_version}"')
    if extras_json is not None:
        parts.append(f'"extras": {extras_json}')
    return (
        event_id,
        user_id,
        session_id or None,
        event_type,
        ts,
        received_at,
        story_id or None,
        list(universes) if universes else None,
        list(characters) if characters else None,
        theme or None,
        moral_lesson or None,
        creation_time,
        device_type or None,
        platform or None,
        age_group or None,
        feature or None,
        "{" + ", ".join(parts) + "}" if parts else None,
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


_dumps = json.JSONEncoder().encode  # json.dumps' default settings, without its per-call argument checks


def _extras_json(extras: struct_pb2.Struct) -> str:
    """json.dumps(json_format.MessageToDict(extras)) of a checked Struct (flat scalars only),
    written directly: keys and strings through json's own escaping (ensure_ascii), numbers
    as json writes a float (repr), the rest as JSON's literals."""
    parts = []
    fields = extras.fields
    for key in fields:
        value = fields[key]
        kind = value.WhichOneof("kind")
        if kind == "string_value":
            text = _json_string(value.string_value)
        elif kind == "number_value":  # finite: _extras_problem refuses the others
            text = _float_repr(value.number_value)
        elif kind == "bool_value":
            text = "true" if value.bool_value else "false"
        elif kind in ("struct_value", "list_value"):  # pragma: no cover - check() refuses them
            text = _dumps(json_format.MessageToDict(value))
        else:
            text = "null"
        parts.append(f"{_json_string(key)}: {text}")
    return "{" + ", ".join(parts) + "}"


_json_string = json.encoder.encode_basestring_ascii  # what json.dumps uses for str (C)
_float_repr = float.__repr__  # what json.dumps writes for a finite float


def raw_json(event: events_pb2.Event) -> str:
    try:
        text = _to_json(event)
    except json_format.SerializeToJsonError:  # extras holding NaN or an infinity: JSON has none
        text = _to_json(_without_extras(event))
    # PostgreSQL's jsonb cannot hold NUL: one such rejected event used to fail the whole
    # group-commit transaction (found by schemathesis). Keep a visible stand-in instead.
    return text.replace("\\u0000", "\\ufffd")


def _to_json(event: events_pb2.Event) -> str:
    return json_format.MessageToJson(event, preserving_proto_field_name=True, indent=None)


def _wire_reader() -> EventRowReader | None:
    """The compiled reader of the same rows as _row (None where it was not built)."""
    column_paths = {"ts": "timestamp", "received_at": RECEIVED_AT, "props": PROPS}
    columns = [column_paths.get(c, f"properties.{c}" if c in _COLUMN_PROPERTIES else c) for c in COLUMNS]
    props = [
        (name, f"properties.{name}")
        for name in (
            *_STRING_PROPERTIES,
            "position",
            *_LATE_STRING_PROPERTIES,
            "duration",
            "model_version",
            "extras",
        )
    ]
    return EventRowReader.build(
        events_pb2.Event.DESCRIPTOR, columns, props, ALLOWED_EXTRAS, MAX_EXTRA_STRING, contact_detail_in
    )


_WIRE_READER = _wire_reader()
