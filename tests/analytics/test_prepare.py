"""ingest.prepare / to_row without a database: the fast row building keeps the old rows."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest
from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics_svc.ingestion import prepare as ingest
from common.validation import parse_rfc3339
from tests.common.test_compiled_validation import _near_valid_events
from tests.events import event


def reference_row(e, received_at):
    """to_row as it was before the fast path (MessageToDict for extras)."""
    p = e.properties
    props = {}
    for fd, value in p.ListFields():
        if fd.name in ingest._COLUMN_PROPERTIES:
            continue
        props[fd.name] = json_format.MessageToDict(value) if fd.name == "extras" else value
    return (
        e.event_id, e.user_id, e.session_id or None, e.event_type, parse_rfc3339(e.timestamp), received_at,
        p.story_id or None, list(p.universes) or None, list(p.characters) or None, p.theme or None,
        p.moral_lesson or None, p.creation_time if p.HasField("creation_time") else None,
        p.device_type or None, p.platform or None, p.age_group or None, p.feature or None,
        json.dumps(props) if props else None,
    )  # fmt: skip


@pytest.mark.parametrize(
    "extras",
    [None, {}, {"language": "en", "pages": 12, "retry": True, "source": None, "latency_ms": 12.5}],
)
def test_rows_are_unchanged(extras):
    now = datetime.now(UTC)
    e = event(timestamp="2025-03-20T14:30:00.250+01:00")
    e.properties.page = "home"
    e.properties.duration = 3.5
    e.properties.position = 0
    e.properties.variant = "b"
    e.properties.app_version = "3.2.1"
    e.properties.model_version = "v20260301T020000-ab12"
    if extras is not None:
        e.properties.extras.update(extras)
    assert ingest.to_row(e, now) == reference_row(e, now)
    prepared = ingest.prepare([e, e], now)
    assert prepared.rows == [reference_row(e, now)]
    assert prepared.repeated_positions == [1]


@pytest.mark.parametrize(
    ("strings", "position", "duration"),
    [
        ("a", 0, 0.0),
        ("z9_x/y-1", 1000, 86400.0),
        ("x-1", 7, 0.1),
        ("b", 3, 1e-07),
        ("q", 12, 1234.5678901234),
    ],
)
def test_props_are_written_as_json_dumps_would(strings, position, duration):
    """props JSON is formatted directly for checked events: the same text as json.dumps."""
    now = datetime.now(UTC)
    e = event()
    p = e.properties
    p.page, p.recommendation_type, p.item_id = strings, "story", strings.replace("/", ":") + ".A"
    p.experiment_key, p.variant = strings.replace("/", ""), strings.replace("/", "")
    p.error_code, p.app_version = (
        "E_" + strings.replace("/", "."),
        "1.2+b-" + strings.replace("_", "").replace("/", ""),
    )
    p.position, p.duration = position, duration
    p.model_version = strings.replace("/", ":").replace("_", ".") + "-v1"
    p.extras.update({"language": 'say "hi"\\ ünïcode', "pages": 3})
    prepared = ingest.prepare([e], now)
    assert not prepared.rejections, prepared.rejections
    assert prepared.rows == [reference_row(e, now)]
    assert json.loads(prepared.rows[0][-1])["duration"] == duration


def test_fractional_timestamp_with_zone_is_stored_not_crashing():
    now = datetime.now(UTC)
    e = event(timestamp=now.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
    prepared = ingest.prepare([e], now)
    assert not prepared.rejections
    assert prepared.rows[0][4].utcoffset() is not None


def test_every_property_is_either_a_column_or_in_props():
    from storyverse.analytics.v1 import events_pb2

    fields = sorted(events_pb2.EventProperties.DESCRIPTOR.fields, key=lambda f: f.number)
    others = [f.name for f in fields if f.name not in ingest._COLUMN_PROPERTIES]
    assert others == [
        *ingest._STRING_PROPERTIES,
        "position",
        *ingest._LATE_STRING_PROPERTIES,
        "duration",
        "model_version",
        "extras",
    ], "a new property must be added to ingest._row"


def reference_check(e, now):
    """ingest.check as it was before the one-pass reader: the validator, then the time window
    and the extras."""
    from common.pii import contact_detail_in
    from common.validation import validate

    violations = validate(e)
    if violations:
        return violations[0].field, violations[0].description
    ts = parse_rfc3339(e.timestamp)
    if ts - now > ingest.MAX_FUTURE:
        return "timestamp", "is more than 5 minutes in the future"
    if ts < ingest.EARLIEST:
        return "timestamp", "is before 2020-01-01"
    if e.properties.HasField("extras"):
        for key, value in e.properties.extras.fields.items():
            name = f"properties.extras.{key}"
            if key not in ingest.ALLOWED_EXTRAS:
                return name, "is not an allowed property (see docs/events.md)"
            kind = value.WhichOneof("kind")
            if kind in ("struct_value", "list_value"):
                return name, "must be a string, number or boolean"
            if kind == "number_value" and not math.isfinite(value.number_value):
                return name, "must be a finite number"
            if kind == "string_value" and len(value.string_value) > ingest.MAX_EXTRA_STRING:
                return name, f"must be at most {ingest.MAX_EXTRA_STRING} characters"
            if kind == "string_value" and ingest._CONTROL.search(value.string_value):
                return name, "must not contain control characters"
            if kind == "string_value" and (found := contact_detail_in(value.string_value)):
                return name, f"must not contain {found} (no contact details are stored)"
    return None


EXTRAS = [
    None,
    {},
    {"language": "en", "pages": 12, "retry": True, "source": None},
    {"pages": 3, "name": "Ana"},
    {"language": "x" * 201},
    {"language": "tab\there"},
    {"source": "mail ana@example.com"},
    {"screen": {"nested": 1}},
    {"latency_ms": 12.5, "screen": "home", "button": "go"},
    {"latency_ms": float("nan")},
    {"pages": float("-inf"), "language": "en"},
]
STAMPS = [
    "2025-03-20T14:30:00.250Z",
    "2025-03-20T14:30:00+01:00",
    "2019-12-31T23:59:59.999Z",
    "2020-01-01T00:00:00Z",
    "2099-01-01T00:00:00Z",
    "2025-03-20 14:30:00.5-05:30",
]


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_near_valid_events(), st.sampled_from(EXTRAS), st.sampled_from(STAMPS))
def test_prepare_rejects_and_builds_as_before(e, extras, stamp):
    """The one-pass reader against the validator-then-read path it replaced: same first
    problem for every event, same row for every accepted one."""
    now = datetime(2025, 3, 20, 15, 0, tzinfo=UTC)
    if e.timestamp == "2025-03-20T14:30:00.250Z":
        e.timestamp = stamp
    if extras is not None:
        e.properties.ClearField("extras")
        e.properties.extras.update(extras)
    expected = reference_check(e, now)
    assert ingest.check(e, now) == expected
    prepared = ingest.prepare([e], now)
    if expected is None:
        assert prepared.rows == [reference_row(e, now)] and not prepared.rejections
    else:
        assert not prepared.rows
        assert (prepared.rejections[0].field, prepared.rejections[0].reason) == tuple(
            t.replace("\x00", "\ufffd") for t in expected
        )


SCALARS = st.one_of(
    st.text(max_size=30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(2**53), 2**53),
    st.booleans(),
    st.none(),
)


@settings(max_examples=1000, deadline=None)
@given(st.dictionaries(st.text(max_size=12), SCALARS, max_size=8))
def test_extras_json_is_json_dumps_of_message_to_dict(extras):
    from google.protobuf import struct_pb2

    struct = struct_pb2.Struct()
    struct.update(extras)
    assert ingest._extras_json(struct) == json.dumps(json_format.MessageToDict(struct))
