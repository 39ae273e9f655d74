"""The compiled wire reader (analytics_svc/ingestion/_event_rows.c) against the Python reader.

The compiled reader may say "not sure" (None) about anything; what it accepts the Python
reader must accept, with the same row. Rows are compared as they are, except the props
JSON, compared parsed when it holds extras (the column is jsonb: key order is not kept,
and the C reader lists extras in wire order).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import sysconfig
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storyverse.analytics.v1 import analytics_service_pb2 as pb
from storyverse.analytics.v1 import events_pb2

from analytics_svc.ingestion import event_rows
from analytics_svc.ingestion import prepare as ingest
from analytics_svc.ingestion.event_rows import field_one
from tests.common.test_compiled_validation import _near_valid_events
from tests.events import event

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
COMPILER = shutil.which((sysconfig.get_config_var("CC") or "cc").split()[0])
# Where no compiler built the reader there is nothing to compare (the first test says which).
needs_reader = pytest.mark.skipif(ingest._WIRE_READER is None and not COMPILER, reason="no C compiler")
PLAIN_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")


def python_rows(events: list[events_pb2.Event], now: datetime = NOW) -> list[tuple | None]:
    """The Python reader's verdict on each event on its own: its row, or None when it rejects."""
    out = []
    for e in events:
        prepared = ingest.prepare([e], now)
        out.append(prepared.rows[0] if prepared.rows else None)
    return out


def compiled_rows(wire: bytes, now: datetime = NOW) -> list[tuple | None]:
    return ingest._WIRE_READER.rows(wire, now, ingest.EARLIEST, now + ingest.MAX_FUTURE)


def comparable(row: tuple | None) -> tuple | None:
    if row is None or row[-1] is None:
        return row
    return (*row[:-1], json.loads(row[-1]))


def assert_agrees(events: list[events_pb2.Event], now: datetime = NOW) -> list[tuple | None]:
    """Every event the compiled reader accepts, the Python reader accepts with the same row."""
    wire = pb.RecordEventsRequest(events=events).SerializeToString()
    fast = compiled_rows(wire, now)
    assert len(fast) == len(events)
    for e, got, expected in zip(events, fast, python_rows(events, now), strict=True):
        if got is not None:
            assert expected is not None, f"compiled reader accepted what Python rejects: {e}"
            assert comparable(got) == comparable(expected), e
            if "extras" not in (got[-1] or ""):
                assert got == expected  # the props text too, byte for byte
    return fast


def test_the_compiled_reader_is_built_where_a_compiler_is():
    """setup.py builds it wherever a C compiler is: there, ingestion must not silently fall back
    to the slower Python reader (a broken build would hide that way). Without a compiler the
    Python reader does all the work, with the same rows."""
    if COMPILER:
        assert ingest._WIRE_READER is not None, (
            "analytics_svc/ingestion/_event_rows.c was not built (pip install -e .)"
        )
    else:
        assert ingest._WIRE_READER is None
        e = full_event()
        wire = pb.RecordEventsRequest(events=[e]).SerializeToString()
        assert ingest.prepare([e], NOW, lambda: wire).rows == ingest.prepare([e], NOW).rows


def full_event(**changes) -> events_pb2.Event:
    e = event(timestamp="2026-11-25T11:59:59.123456Z")
    p = e.properties
    p.page, p.recommendation_type, p.item_id, p.position = "library/shelf-2", "story", "story-1", 0
    p.experiment_key, p.variant, p.error_code, p.app_version, p.duration = "exp_1", "b", "E.1", "3.2.1+b", 1.5
    p.feature, p.age_group, p.model_version = "voice_narration", "6-8", "v20260301T020000-ab12"
    p.extras.update({"language": "en", "pages": 12, "retry": True, "source": None, "latency_ms": 12.5})
    for name, value in changes.items():
        setattr(p if hasattr(p, name) and name not in ("event_id",) else e, name, value)
    return e


@needs_reader
def test_valid_events_are_read_in_c_with_the_same_rows():
    events = [full_event(), event(timestamp="2026-11-25T11:00:00Z"), full_event(duration=-0.0)]
    events[2].properties.ClearField("extras")
    fast = assert_agrees(events)
    assert all(row is not None for row in fast), "the compiled reader refused valid events"


@needs_reader
@pytest.mark.parametrize(
    "timestamp",
    [
        "2026-11-25T11:59:59Z",
        "2026-11-25T11:59:59.1Z",
        "2026-11-25T11:59:59.12345Z",
        "2024-02-29T00:00:00.000001Z",
        "2020-01-01T00:00:00Z",  # the earliest accepted
        "2026-11-25T12:05:00Z",  # the latest accepted: NOW + 5 minutes
        "2026-11-25T12:05:00.000001Z",
        "2019-12-31T23:59:59.999999Z",
        "2025-02-29T00:00:00Z",
        "2026-11-25T24:00:00Z",
        "2026-11-25T11:60:00Z",
        "2026-11-25T11:59:60Z",
        "2026-13-01T00:00:00Z",
        "2026-11-31T00:00:00Z",
        "2026-11-25T11:59:59.1234567Z",
        "2026-11-25T11:59:59.Z",
        "2026-11-25t11:59:59Z",
        "2026-11-25T11:59:59z",
        "2026-11-25T11:59:59+00:00",
        "2026-11-25 11:59:59Z",
        "2026-11-25T11:59:5９Z",
        "",
    ],
)
def test_timestamps(timestamp):
    fast = assert_agrees([event(timestamp=timestamp)])
    # The shape clients send is read in C; other shapes Python accepts are left to it.
    plain_utc = re.fullmatch(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z", timestamp
    )
    assert (fast[0] is not None) == bool(plain_utc and python_rows([event(timestamp=timestamp)])[0])


@needs_reader
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("event_id", "a" * 128),
        ("event_id", "a" * 129),
        ("event_id", "-starts-with-dash"),
        ("event_id", "évt-1"),
        ("event_id", "evt\x001"),
        ("user_id", ""),
        ("event_type", "story_creations"),
        ("event_type", "story_creation\x00"),
        ("session_id", "s" * 128),
        ("theme", "Friendship"),
        ("theme", "f" * 64),
        ("theme", "f" * 65),
        ("device_type", "phone"),
        ("device_type", "fridge"),
        ("age_group", "13-17"),
        ("error_code", "x" * 64),
        ("error_code", "x" * 65),
        ("app_version", "1.0+build-7"),
        ("page", "a/b_c-d"),
        ("page", 'a"b'),
        ("position", 1000),
        ("position", 1001),
        ("position", -1),
        ("duration", 86400.0),
        ("duration", 86400.5),
        ("duration", math.nan),
        ("duration", math.inf),
        ("creation_time", 0.0),
        ("creation_time", -1e-300),
        ("recommendation_type", "moral_lesson"),
        ("recommendation_type", "plot"),
    ],
)
def test_field_rules(field, value):
    e = full_event()
    target = e if field in ("event_id", "user_id", "event_type", "session_id") else e.properties
    setattr(target, field, value)
    fast = assert_agrees([e])
    assert (fast[0] is not None) == (python_rows([e])[0] is not None)


@needs_reader
@pytest.mark.parametrize(
    "items",
    [["a"] * 10, ["a"] * 11, ["dragon-ball", "Toy"], ["x" * 64], ["x" * 65], ["ok", ""], []],
)
def test_universes(items):
    e = full_event()
    e.properties.universes[:] = items
    fast = assert_agrees([e])
    assert (fast[0] is not None) == (python_rows([e])[0] is not None)


@needs_reader
@pytest.mark.parametrize(
    "extras",
    [
        {},
        {"language": 'say "hi" \\ back'},
        {"language": "x" * 200},
        {"language": "x" * 201},
        {"language": "ünïcode"},
        {"language": "tab\there"},
        {"language": "write to ana@example.com"},
        {"source": "call +33 6 12 34 56 78"},
        {"nickname": "Ana"},
        {"pages": {"nested": 1}},
        {"pages": [1, 2]},
        {"latency_ms": -0.0, "retry": False, "pages": 1e300},
    ],
)
def test_extras(extras):
    e = full_event()
    e.properties.ClearField("extras")
    e.properties.extras.update(extras)
    fast = assert_agrees([e])
    ascii_only = all(str(value).isascii() for value in extras.values())  # other text is left to Python
    assert (fast[0] is not None) == (python_rows([e])[0] is not None and ascii_only)


@needs_reader
def test_merged_and_unknown_wire_is_left_to_python():
    """A field set twice on the wire (the last wins, messages merge) or unknown to the contract:
    the compiled reader is never sure, and the Python reader reads the merged message."""
    a, b = full_event(), full_event(theme="courage")
    merged = a.SerializeToString() + b.SerializeToString()
    unknown = a.SerializeToString() + b"\xf8\x06\x01"  # field 111, varint 1
    for data in (merged, unknown):
        assert compiled_rows(field_one([data])) == [None]
        assert events_pb2.Event.FromString(data)  # still an event for the Python reader


@needs_reader
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_near_valid_events(), st.booleans())
def test_agrees_with_python_on_generated_events(e, utc):
    if utc and e.timestamp:
        e.timestamp = "2025-03-20T14:30:00.250Z"
    assert_agrees([e])


@needs_reader
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_agrees_on_damaged_wire(data):
    """Bytes flipped, cut or inserted in a valid event: whatever the Python protobuf parser
    still reads as an Event, the compiled reader accepts only with the same row."""
    wire = bytearray(full_event().SerializeToString())
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(wire) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            wire[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del wire[at : at + data.draw(st.integers(1, 4))]
        else:
            wire[at:at] = data.draw(st.binary(min_size=1, max_size=4))
    try:
        e = events_pb2.Event.FromString(bytes(wire))
    except Exception:  # not a message at all: the servicer never sees it
        return
    fast = compiled_rows(field_one([bytes(wire)]))
    expected = python_rows([e])[0]
    if fast[0] is not None:
        assert expected is not None and comparable(fast[0]) == comparable(expected)


def test_prepare_with_wire_equals_prepare_without():
    """Mixed batch: valid, invalid, repeated in the request, outside the window."""
    good = [full_event(), event(timestamp="2026-11-25T11:00:00Z")]
    bad = [event(user_id=None), event(timestamp="2030-01-01T00:00:00Z"), full_event(theme="Bad Theme")]
    late = event(timestamp=(NOW - timedelta(days=1)).isoformat())
    events = [good[0], bad[0], good[1], good[0], bad[1], late, bad[2]]
    wire = pb.RecordEventsRequest(events=events).SerializeToString()
    with_wire = ingest.prepare(events, NOW, lambda: wire)
    without = ingest.prepare(events, NOW)
    assert [comparable(r) for r in with_wire.rows] == [comparable(r) for r in without.rows]
    assert with_wire.positions == without.positions == [0, 2, 5]
    assert with_wire.rejections == without.rejections and len(without.rejections) == 3
    assert with_wire.repeated_positions == without.repeated_positions and len(without.repeated_positions) == 1


def test_field_one_frames_each_event():
    events = [full_event(), event()]
    events[0].properties.ClearField("extras")  # a map's serialized order may change between calls
    serialized = [e.SerializeToString() for e in events]
    assert field_one(serialized) == pb.RecordEventsRequest(events=events).SerializeToString()
    big = full_event(page="p" * 120)
    big.properties.extras.update({"language": "x" * 200})
    data = big.SerializeToString()
    assert len(data) >= 128  # a two-byte length
    assert pb.RecordEventsRequest.FromString(field_one([data])) == pb.RecordEventsRequest(events=[big])


def test_patterns_of_the_contract_become_classes():
    """Each pattern's classes accept exactly the strings re.fullmatch accepts."""
    from common.rules import message_rules

    fields = [*message_rules(events_pb2.Event.DESCRIPTOR).fields]
    fields += message_rules(events_pb2.EventProperties.DESCRIPTOR).fields
    patterns = {f.text.pattern for f in fields if f.text is not None and f.text.pattern}
    assert len(patterns) >= 5
    samples = ["a", "A", "0", "-", "a-", "a.b", "a_b", "a/b", "a:b", "a+b", "a b", "é", "a" * 64, "a" * 65]
    for pattern in patterns:
        first, rest, low, high = event_rows._classes(pattern)
        for text in samples:
            ours = low <= len(text) <= high and all(
                ord(c) < 128 and (bits[ord(c) >> 3] >> (ord(c) & 7)) & 1
                for c, bits in zip(text, [first] + [rest] * len(text), strict=False)
            )
            assert ours == bool(re.fullmatch(pattern, text)), (pattern, text)
    with pytest.raises(ValueError):
        event_rows._classes("[a-z]+")


@needs_reader
def test_every_field_of_the_contract_is_read_in_c():
    """A field left out of the plan (a rule of a new shape) would send every event that sets it
    to the slower Python reader, silently: teach event_rows.py the shape instead."""
    paths = {f.name for f in events_pb2.Event.DESCRIPTOR.fields}
    paths |= {f"properties.{f.name}" for f in events_pb2.EventProperties.DESCRIPTOR.fields}
    assert ingest._WIRE_READER.planned == paths


@needs_reader
def test_fields_of_the_request_other_than_the_events_are_skipped():
    """A newer client's request may carry fields this contract does not know: upb keeps them and
    serializes them again; they are not events."""
    events = [full_event(), event()]
    wire = pb.RecordEventsRequest(events=events).SerializeToString()
    unknown = b"\x10\x07" + b"\x1a\x03abc" + b"\x25\x00\x00\x00\x00" + b"\x29" + bytes(8)  # fields 2-5
    for data in (unknown + wire, wire + unknown):
        fast = compiled_rows(data)
        assert [comparable(r) for r in fast] == [comparable(r) for r in python_rows(events)]
    assert ingest._WIRE_READER.rows(b"\x0b", NOW, ingest.EARLIEST, NOW) is None  # a group: not a message


def test_props_formats_follow_the_rules():
    """Only text its rules keep JSON-safe is written into props as it is."""
    from common.rules import message_rules

    def form(name):
        return event_rows._format(message_rules(events_pb2.EventProperties.DESCRIPTOR).field(name))

    names = ("page", "recommendation_type", "position", "duration", "extras")
    assert [form(n) for n in names] == ["s", "s", "i", "f", "j"]
    assert form("universes") is None  # a list
    timestamp = message_rules(events_pb2.Event.DESCRIPTOR).field("timestamp")
    assert event_rows._format(timestamp) is None  # rfc3339: no character rule
