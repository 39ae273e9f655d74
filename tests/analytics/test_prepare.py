"""ingest.prepare / to_row without a database: the fast row building keeps the old rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from google.protobuf import json_format

from analytics_svc import ingest
from common.validation import parse_rfc3339
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
    if extras is not None:
        e.properties.extras.update(extras)
    assert ingest.to_row(e, now) == reference_row(e, now)
    prepared = ingest.prepare([e, e], now)
    assert prepared.rows == [reference_row(e, now)]
    assert prepared.repeated_in_request == 1


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
        "extras",
    ], "a new property must be added to ingest._row"
