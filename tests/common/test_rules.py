"""The rules model (common/rules.py) against the options it is read from.

Every consumer of the rules reads this model, the tests' reference validator included; so the
model itself is checked here against the raw `storyverse.common.v1.rules` options, read the
plain protobuf way: each option set on a field shows in the model, nothing else does.
"""

from __future__ import annotations

import itertools

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from storyverse.analytics.v1 import analytics_service_pb2, events_pb2
from storyverse.common.v1 import rules_pb2
from storyverse.feedback.v1 import feedback_service_pb2

from common.rules import Kind, TextRules, field_rules, message_rules
from tests.common.test_compiled_validation import MESSAGES

# Where each option shows in the model, for singular and for repeated fields.
SINGULAR = {
    "required": "required",
    "min_len": "text.min_len",
    "max_len": "text.max_len",
    "pattern": "text.pattern",
    "in": "text.allowed",
    "gte": "gte",
    "lte": "lte",
    "rfc3339": "text.rfc3339",
    "date": "text.date",
    "per_item": "per_item",
}
REPEATED = {
    "required": "required",
    "max_items": "max_items",
    "item_max_len": "text.max_len",
    "item_pattern": "text.pattern",
    "item_in": "text.allowed",
    "per_item": "per_item",
}


def _at(model, path: str):
    for name in path.split("."):
        model = getattr(model, name)
    return model


def _set_in_model(model) -> set[str]:
    """The model's attributes that differ from their defaults, as paths."""
    found = {name for name in ("required", "per_item") if getattr(model, name)}
    found |= {name for name in ("gte", "lte") if getattr(model, name) is not None}
    found |= {"max_items"} if model.max_items else set()
    if model.text is not None:
        default = TextRules()
        changed = [n for n in TextRules.__slots__ if getattr(model.text, n) != getattr(default, n)]
        found |= {f"text.{name}" for name in changed}
    return found


def test_every_option_of_the_contract_shows_in_the_model_and_nothing_else():
    checked = 0
    for descriptor in MESSAGES:
        for field in descriptor.fields:
            model = field_rules(field)
            options = field.GetOptions()
            raw = options.Extensions[rules_pb2.rules] if options.HasExtension(rules_pb2.rules) else None
            placed = REPEATED if field.is_repeated else SINGULAR
            expected = set()
            for option, value in raw.ListFields() if raw is not None else ():
                path = placed[option.name]
                shown = _at(model, path)
                shown = list(shown) if isinstance(shown, tuple) else shown
                assert shown == value, (field.full_name, option.name)
                expected.add(path)
                checked += 1
            assert _set_in_model(model) == expected, field.full_name
    assert checked > 150


def test_kinds_and_shapes():
    event = message_rules(events_pb2.Event.DESCRIPTOR)
    assert message_rules(events_pb2.Event.DESCRIPTOR) is event  # read once
    assert [f.name for f in event.fields] == [f.name for f in events_pb2.Event.DESCRIPTOR.fields]
    timestamp = event.field("timestamp")
    assert (timestamp.kind, timestamp.required, timestamp.text.rfc3339) == (Kind.STRING, True, True)
    assert event.field("properties").kind is Kind.MESSAGE and event.field("properties").nested
    properties = message_rules(events_pb2.EventProperties.DESCRIPTOR)
    assert properties.field("extras").kind is Kind.WELL_KNOWN
    assert properties.field("position").presence and properties.field("position").kind is Kind.INTEGER
    universes = properties.field("universes")
    assert universes.repeated and universes.max_items == 10 and universes.text.pattern
    batch = message_rules(analytics_service_pb2.RecordEventsRequest.DESCRIPTOR).field("events")
    assert batch.per_item and batch.required and not batch.nested  # the service checks each event
    assert event.requires and not message_rules(events_pb2.EventProperties.DESCRIPTOR).requires
    rating = field_rules(feedback_service_pb2.FeedbackEntry.DESCRIPTOR.fields_by_name["rating"])
    assert rating.numeric and (rating.gte, rating.lte) == (1.0, 5.0)
    assert [f.number for f in event.by_number] == sorted(f.number for f in event.fields)
    assert [f.name for f in event.required] == [f.name for f in event.fields if f.required]


_files = itertools.count()


def _message_with(field_type: int, label: int, rules: rules_pb2.FieldRules):
    """A new message type with one field of that type and label carrying these rules."""
    n = next(_files)
    file = descriptor_pb2.FileDescriptorProto(
        name=f"storyverse/test/v1/rules_model_{n}.proto",
        package="storyverse.test.v1",
        syntax="proto3",
        dependency=["storyverse/common/v1/rules.proto"],
    )
    message = file.message_type.add(name=f"Ruled{n}")
    field = message.field.add(name="value", number=1, type=field_type, label=label)
    field.options.Extensions[rules_pb2.rules].CopyFrom(rules)
    pool = descriptor_pool.Default()
    pool.AddSerializedFile(file.SerializeToString())
    return pool.FindMessageTypeByName(f"storyverse.test.v1.Ruled{n}")


_T = descriptor_pb2.FieldDescriptorProto
SINGLE, LIST = _T.LABEL_OPTIONAL, _T.LABEL_REPEATED


@pytest.mark.parametrize(
    ("field_type", "label", "rules", "problem"),
    [
        (_T.TYPE_STRING, LIST, rules_pb2.FieldRules(pattern="[a-z]+"), "belong to singular strings"),
        (_T.TYPE_STRING, SINGLE, rules_pb2.FieldRules(item_max_len=3), "belong to repeated strings"),
        (_T.TYPE_INT32, SINGLE, rules_pb2.FieldRules(max_len=3), "holds no string"),
        (_T.TYPE_STRING, SINGLE, rules_pb2.FieldRules(gte=1), "singular numbers"),
        (_T.TYPE_INT32, LIST, rules_pb2.FieldRules(lte=1), "singular numbers"),
        (_T.TYPE_DOUBLE, SINGLE, rules_pb2.FieldRules(gte=2, lte=1), "gte above lte"),
        (_T.TYPE_STRING, SINGLE, rules_pb2.FieldRules(min_len=5, max_len=2), "min_len above max_len"),
        (_T.TYPE_STRING, SINGLE, rules_pb2.FieldRules(rfc3339=True, date=True), "both"),
        (_T.TYPE_STRING, SINGLE, rules_pb2.FieldRules(pattern="[a-"), "does not compile"),
        (_T.TYPE_STRING, SINGLE, rules_pb2.FieldRules(max_items=2), "repeated fields"),
        (_T.TYPE_STRING, SINGLE, rules_pb2.FieldRules(per_item=True), "message fields"),
    ],
)
def test_a_rule_where_nothing_would_enforce_it_is_refused(field_type, label, rules, problem):
    descriptor = _message_with(field_type, label, rules)
    with pytest.raises(ValueError, match=problem):
        message_rules(descriptor)


def test_rules_in_their_places_are_read():
    descriptor = _message_with(_T.TYPE_STRING, LIST, rules_pb2.FieldRules(item_in=["a", "b"], max_items=3))
    [field] = message_rules(descriptor).fields
    assert field.text == TextRules(allowed=("a", "b")) and field.max_items == 3
