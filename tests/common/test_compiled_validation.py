"""The generated validators against the straightforward rule walker they replaced.

Random messages of every type in the contract (hypothesis), with values drawn
around the rules' edges: the violations, their order included, must be identical.
"""

from __future__ import annotations

import contextlib
import math

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storyverse.analytics.v1 import analytics_service_pb2, events_pb2
from storyverse.feedback.v1 import feedback_service_pb2
from storyverse.recommendation.v1 import recommendation_service_pb2

from common.validation import parse_rfc3339, validate
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
        if (rules := reference.rules_of(field)) is not None
        for value in [*getattr(rules, "in"), *rules.item_in]
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
