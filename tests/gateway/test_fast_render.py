"""Replies rendered by the planned renderer (gateway/fast_render.py) against MessageToDict with
the gateway's options, on every reply type of every fronted service, filled at random from
its descriptor (empty and set fields, -0.0, non-finite doubles, 64-bit integers, unknown enum
numbers, unicode, nested and repeated messages, oneofs, well-known types): the same JSON,
key order included; and through the gateway, a reply's body is that JSON."""

from __future__ import annotations

import json
import random

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from gateway.fast_render import FastRenderer, message_to_dict
from gateway.routes import build_router
from gateway.transcode import message_class, render_response

ROUTER = build_router()
REPLY_TYPES = sorted(
    {route.method.output_type.full_name: route.method.output_type for route in ROUTER.routes}.items()
)
_F = FieldDescriptor
_DOUBLES = [0.0, -0.0, 1.5, -2.25, 1e300, 5e-324, float("inf"), float("-inf"), float("nan"), 0.1]
_INTS = {
    _F.CPPTYPE_INT32: [0, -1, 2**31 - 1, -(2**31)],
    _F.CPPTYPE_UINT32: [0, 1, 2**32 - 1],
    _F.CPPTYPE_INT64: [0, -1, 2**63 - 1, -(2**63), 2**53 + 1],
    _F.CPPTYPE_UINT64: [0, 7, 2**64 - 1],
}
_TEXTS = ["", "plain", "zürich ✓ 🐉", 'quote " and \\ and \n', "\u2028"]


def fill(message: Message, rng: random.Random, depth: int = 0) -> Message:
    """Each field set with probability 1/2 (a oneof keeps the last one set)."""
    for field in message.DESCRIPTOR.fields:
        if rng.random() < 0.5:
            continue
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            fill_map(getattr(message, field.name), field.message_type, rng)
        elif field.is_repeated:
            for _ in range(rng.randint(1, 3)):
                add_value(message, field, rng, depth)
        else:
            set_value(message, field, rng, depth)
    return message


def fill_map(target, entry: Descriptor, rng: random.Random) -> None:
    value_field = entry.fields_by_name["value"]
    for i in range(rng.randint(1, 3)):
        key = f"k{i}" if entry.fields_by_name["key"].type == _F.TYPE_STRING else i
        if value_field.message_type is not None:
            target[key].CopyFrom(fill(target[key], rng, 3))
        else:
            target[key] = scalar(value_field, rng)


def scalar(field: FieldDescriptor, rng: random.Random) -> object:
    cpp = field.cpp_type
    if cpp == _F.CPPTYPE_STRING:
        return rng.choice(_TEXTS).encode() if field.type == _F.TYPE_BYTES else rng.choice(_TEXTS)
    if cpp == _F.CPPTYPE_BOOL:
        return rng.random() < 0.5
    if cpp in _INTS:
        return rng.choice(_INTS[cpp])
    if cpp == _F.CPPTYPE_DOUBLE:
        return rng.choice(_DOUBLES)
    if cpp == _F.CPPTYPE_FLOAT:
        return rng.choice([0.0, 0.1, -3.5, 1e30])
    if cpp == _F.CPPTYPE_ENUM:
        numbers = [v.number for v in field.enum_type.values]
        return rng.choice(numbers + ([99] if not field.enum_type.is_closed else []))
    raise AssertionError(field.full_name)


def set_value(message: Message, field: FieldDescriptor, rng: random.Random, depth: int) -> None:
    if field.message_type is None:
        setattr(message, field.name, scalar(field, rng))
    elif field.message_type.full_name == "google.protobuf.Struct":
        getattr(message, field.name).update({"a": 1.5, "b": ["x", True, None], "c": {"d": "é"}})
    elif field.message_type.full_name == "google.protobuf.Timestamp":
        getattr(message, field.name).FromSeconds(1_700_000_000 + rng.randint(0, 10**6))
    elif depth < 3:
        fill(getattr(message, field.name), rng, depth + 1)
    else:
        getattr(message, field.name).SetInParent()


def add_value(message: Message, field: FieldDescriptor, rng: random.Random, depth: int) -> None:
    values = getattr(message, field.name)
    if field.message_type is None:
        values.append(scalar(field, rng))
    elif field.message_type.full_name.startswith("google.protobuf."):
        values.add()
    elif depth < 3:
        fill(values.add(), rng, depth + 1)
    else:
        values.add()


def as_text(value: object) -> str:
    """JSON text in key order; NaN compared as text (NaN != NaN)."""
    return json.dumps(value, ensure_ascii=False)


@pytest.mark.parametrize("name,descriptor", REPLY_TYPES, ids=[name for name, _ in REPLY_TYPES])
def test_every_reply_type_renders_as_message_to_dict(name: str, descriptor: Descriptor) -> None:
    renderer = FastRenderer()
    cls = message_class(descriptor)
    rng = random.Random(name)
    for _ in range(60):
        message = fill(cls(), rng)
        assert as_text(renderer.render(message)) == as_text(message_to_dict(message)), message


def test_the_recommendation_reply_is_planned_not_passed_to_message_to_dict() -> None:
    """The hot replies take the planned path: a renderer that declined them would be slow, not wrong."""
    from storyverse.recommendation.v1 import recommendation_service_pb2 as pb

    renderer = FastRenderer()
    reply = pb.RecommendResponse()
    item = reply.lists.add(recommendation_type="characters").items.add(id="c-1", score=-0.0, universes=["u"])
    assert as_text(renderer.render(reply)) == as_text(message_to_dict(reply))
    planned = {name for name, plan in renderer._plans.items() if plan is not None}
    assert {reply.DESCRIPTOR.full_name, item.DESCRIPTOR.full_name} <= planned


def test_a_rendered_body_is_the_reply_as_json() -> None:
    route, _ = ROUTER.resolve("GET", "/api/recommendations/characters")
    reply = fill(message_class(route.method.output_type)(), random.Random(5))
    body, content_type = render_response(route, reply)
    assert content_type.startswith("application/json")
    assert json.loads(body) == json.loads(as_text(message_to_dict(reply)))
