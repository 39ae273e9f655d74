"""The generated validators against the straightforward rule walker they replaced.

Random messages of every type in the contract (hypothesis), with values drawn
around the rules' edges: the violations, their order included, must be identical.
"""

from __future__ import annotations

import contextlib
import math

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storyverse.analytics.v1 import analytics_service_pb2, events_pb2
from storyverse.feedback.v1 import feedback_service_pb2
from storyverse.recommendation.v1 import recommendation_service_pb2

from common.rules import field_rules
from common.validation import _parse_rfc3339, parse_rfc3339, reader_for, validate
from tests.common import reference_validation as reference

MODULES = [events_pb2, analytics_service_pb2, recommendation_service_pb2, feedback_service_pb2]
EDGE_STRINGS = [
    "",
    "a",
    "evt-123456",
    "user-789012",
    "dragon-ball",
    "Not A Slug",
    "voice_narration",
    "create/universe",
    "3.2.1",
    "x" * 64,
    "x" * 65,
    "y" * 128,
    "y" * 129,
    "-leading-dash",
    "a,b",
    "é",
    "2025-03-20",
    "2025-02-30",
    "2025-3-20",
    "2025-03-20T14:30:00Z",
    "2025-03-20t14:30:00z",
    "2025-03-20 14:30:00.5-05:30",
    "2025-03-20T14:30:00.123456789+02:00",
    "2025-13-20T14:30:00Z",
    "2025-03-20T14:30:00",
    "2025-03-20T24:00:00+00:00",
]


def _all_messages() -> list[Descriptor]:
    found: dict[str, Descriptor] = {}

    def visit(descriptor: Descriptor) -> None:
        if descriptor.full_name in found or descriptor.GetOptions().map_entry:
            return
        found[descriptor.full_name] = descriptor
        for nested in descriptor.nested_types:
            visit(nested)
        for field in descriptor.fields:
            if field.message_type is not None and not field.message_type.full_name.startswith("google."):
                visit(field.message_type)

    for module in MODULES:
        for descriptor in module.DESCRIPTOR.message_types_by_name.values():
            visit(descriptor)
    return list(found.values())


MESSAGES = _all_messages()


def _strings() -> st.SearchStrategy[str]:
    allowed = {
        value
        for descriptor in MESSAGES
        for field in descriptor.fields
        if (text := field_rules(field).text) is not None
        for value in text.allowed
    }
    return st.one_of(st.sampled_from(sorted(allowed) + EDGE_STRINGS), st.text(max_size=140))


STRINGS = _strings()
NUMBERS = st.one_of(
    st.sampled_from([0.0, -0.0, -1.0, 0.5, 1000.0, 1001.0, 86400.0, 86400.5, math.nan, math.inf, -math.inf]),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
)
INTS = st.one_of(
    st.sampled_from([0, -1, 1, 20, 104, 105, 1000, 1001, 1440, 8760, 8761]), st.integers(-(2**31), 2**31 - 1)
)


def _scalar(field: FieldDescriptor) -> st.SearchStrategy:
    kind = field.cpp_type
    if kind == FieldDescriptor.CPPTYPE_STRING:
        return st.binary(max_size=8) if field.type == FieldDescriptor.TYPE_BYTES else STRINGS
    if kind in (FieldDescriptor.CPPTYPE_DOUBLE, FieldDescriptor.CPPTYPE_FLOAT):
        return NUMBERS
    if kind == FieldDescriptor.CPPTYPE_BOOL:
        return st.booleans()
    if kind == FieldDescriptor.CPPTYPE_ENUM:
        return st.sampled_from([v.number for v in field.enum_type.values])
    if kind in (FieldDescriptor.CPPTYPE_UINT32, FieldDescriptor.CPPTYPE_UINT64):
        return st.integers(0, 2**31)
    return INTS


@st.composite
def messages(draw, descriptor: Descriptor, depth: int = 0):
    from google.protobuf import message_factory

    message = message_factory.GetMessageClass(descriptor)()
    for field in descriptor.fields:
        if field.message_type is not None and (
            field.message_type.full_name.startswith("google.") or field.message_type.GetOptions().map_entry
        ):
            continue
        if not draw(st.booleans()):
            continue
        if field.message_type is not None:
            if depth >= 2:
                continue
            children = draw(
                st.lists(messages(field.message_type, depth + 1), max_size=3 if field.is_repeated else 1)
            )
            if field.is_repeated:
                for child in children:
                    getattr(message, field.name).add().CopyFrom(child)
            elif children:
                getattr(message, field.name).CopyFrom(children[0])
            continue
        if field.is_repeated:
            getattr(message, field.name).extend(draw(st.lists(_scalar(field), max_size=24)))
            continue
        value = draw(_scalar(field))
        with contextlib.suppress(ValueError, TypeError):  # e.g. a float32 out of range: skip
            setattr(message, field.name, value)
    return message


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(MESSAGES).flatmap(messages))
def test_compiled_validator_matches_reference(message):
    assert validate(message) == reference.validate(message)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(st.sampled_from(EDGE_STRINGS), st.text(alphabet="0123456789-:.TtZz +", max_size=40)))
def test_fast_rfc3339_matches_reference(text):
    assert parse_rfc3339(text) == reference.parse_rfc3339(text)


def test_repeated_values_are_memoized_and_still_reported():
    from tests.events import event

    bad = event(user_id="has space")
    for _ in range(3):  # the second and third come from the memo
        assert [v.field for v in validate(bad)] == ["user_id"]


def _paths(descriptor: Descriptor, prefix: str = "", chain: tuple[str, ...] = ()) -> list[str]:
    """Every field a reader can hand back: nested singular messages opened, others as they are."""
    out = []
    for field in descriptor.fields:
        message = field.message_type
        opened = (
            message is not None
            and not field.is_repeated
            and not message.full_name.startswith("google.")
            and message.full_name not in (*chain, descriptor.full_name)
            and not field_rules(field).per_item
        )
        if opened:
            out += _paths(message, f"{prefix}{field.name}.", (*chain, descriptor.full_name))
        out.append(prefix + field.name)
    return out


def _expected(message, path: str):
    *parents, name = path.split(".")
    for parent in parents:
        message = getattr(message, parent)
    field = message.DESCRIPTOR.fields_by_name[name]
    value = getattr(message, name)
    if not field.is_repeated and (field.message_type is not None or field.has_presence):
        return value if message.HasField(name) else None
    text = field_rules(field).text
    if text is not None and text.rfc3339 and not field.is_repeated:
        return parse_rfc3339(value) if value else None
    return value


def _nan_free(value):
    """NaN is not equal to itself; a field holding it is still read right."""
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if hasattr(value, "extend"):  # a repeated field's container
        return [_nan_free(item) for item in value]
    return value


_READERS = {d.full_name: (reader_for(d, _paths(d)), _paths(d)) for d in MESSAGES}


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(MESSAGES).flatmap(messages))
def test_reader_finds_exactly_what_the_validator_finds_and_reads_the_fields(message):
    """reader_for: None exactly when validate() reports something; otherwise the fields' values."""
    _check_reader(message)


def _check_reader(message) -> None:
    read, paths = _READERS[message.DESCRIPTOR.full_name]
    for _ in range(2):  # the second time through the memo of valid values
        values = read(message)
        assert (values is None) == bool(validate(message)), (message, validate(message))
        if values is not None:
            assert [_nan_free(v) for v in values] == [_nan_free(_expected(message, p)) for p in paths]


def test_reader_reads_the_event_as_ingestion_wants_it():
    from tests.events import event

    e = event(timestamp="2025-03-20T14:30:00.250+01:00")
    read = reader_for(
        e.DESCRIPTOR, ["timestamp", "properties.creation_time", "properties.position", "event_id"]
    )
    assert read(e) == (reference.parse_rfc3339(e.timestamp), 450.0, None, e.event_id)
    e.properties.position = 0  # set to its default: still set
    e.properties.creation_time = -0.0
    assert read(e)[1:3] == (-0.0, 0)
    e.properties.creation_time = math.nan
    assert read(e) is None and [v.field for v in validate(e)] == ["properties.creation_time"]
    with pytest.raises(ValueError, match="no such field"):
        reader_for(e.DESCRIPTOR, ["properties.nope"])


@st.composite
def _timestamps(draw) -> str:
    """Timestamps around the common UTC shape (the fast path) and just off it."""
    digits = st.integers(0, 99).map(lambda n: f"{n:02d}")
    text = (
        f"{draw(st.integers(0, 9999)):04d}-{draw(digits)}-{draw(digits)}{draw(st.sampled_from('TTTtx '))}"
        f"{draw(digits)}:{draw(digits)}:{draw(digits)}"
    )
    if draw(st.booleans()):
        text += draw(st.sampled_from(".,")) + draw(st.text("0123456789", min_size=0, max_size=10))
    text += draw(st.sampled_from(["Z", "Z", "Z", "z", "+00:00", "-05:30", "+24:00", "", "ZZ", " Z"]))
    if draw(st.integers(0, 9)) == 0:  # a stray character anywhere: a letter, a non-ASCII digit, NUL
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + draw(st.sampled_from(["a", "\u0663", "\x00", "-", "9"])) + text[at + 1 :]
    return text


@settings(max_examples=3000, deadline=None)
@given(_timestamps())
def test_fast_rfc3339_path_agrees_with_the_general_one(text):
    assert parse_rfc3339(text) == reference.parse_rfc3339(text) == _parse_rfc3339(text)
    parsed = parse_rfc3339(text)
    if parsed is not None:
        assert parsed.utcoffset() is not None
        assert parsed.tzinfo == _parse_rfc3339(text).tzinfo


@st.composite
def _near_valid_events(draw):
    """The seed event (all properties set, valid) with a few fields changed or cleared: the random
    messages above are nearly never valid Events, these often are."""
    from storyverse.analytics.v1 import events_pb2

    from tests.events import event

    e = event(timestamp=draw(st.sampled_from(["2025-03-20T14:30:00.250Z", "2025-03-20T14:30:00+01:00"])))
    p = e.properties
    p.page, p.recommendation_type, p.item_id, p.position = "home", "story", "story-1", 3
    p.experiment_key, p.variant, p.error_code, p.app_version, p.duration = "exp", "b", "E1", "3.2.1", 1.5
    p.feature, p.age_group = "voice_narration", "6-8"
    p.extras.update({"language": "en"})
    fields = [(e, f) for f in events_pb2.Event.DESCRIPTOR.fields if f.message_type is None]
    fields += [(p, f) for f in events_pb2.EventProperties.DESCRIPTOR.fields if f.message_type is None]
    for _ in range(draw(st.integers(0, 3))):
        message, field = draw(st.sampled_from(fields))
        if draw(st.booleans()):
            message.ClearField(field.name)
        elif field.is_repeated:
            getattr(message, field.name)[:] = draw(st.lists(_scalar(field), max_size=12))
        else:
            with contextlib.suppress(ValueError, TypeError):
                setattr(message, field.name, draw(_scalar(field)))
    if draw(st.integers(0, 9)) == 0:
        e.ClearField("properties")
    return e


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_near_valid_events())
def test_reader_agrees_with_the_validator_on_events(e):
    _check_reader(e)
