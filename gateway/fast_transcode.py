"""JSON -> protobuf for the hot routes, planned once from the descriptors at start-up.

The hot routes (recording events one by one or in batches, recommendations, feedback) take
most of the gateway's traffic. For them, a body is parsed with orjson and turned into the
constructor's keyword arguments by a plan built from the request message's descriptor: per
JSON key (proto name or json_name), the field and what its value must be. The message is then
built in one constructor call (upb, in C).

The plan covers the common, well-formed body exactly and nothing else. Whatever it does not
cover -- a parser error, an unknown key, a null, a value of another JSON type than its field's
(a number written as a string, 4.0 for an integer), a duplicate key, a non-finite number, a
field of a type it does not plan (bytes, enums, maps, oneofs, float, well-known types other
than Struct), path variables or query parameters -- makes `fast_request` return None, and the
caller runs transcode.build_request, whose answer (error message included) is today's. So the
fast path changes the speed of accepted bodies only; tests/gateway/test_fast_transcode.py checks
it against build_request on generated and damaged bodies.

Duplicate keys: orjson keeps the last value silently, where the gateway answers 400. Outside
strings a ':' only follows a key, so a body without duplicates has exactly as many ':' as
the keys it parsed to plus the ':' inside its strings; any other count (or an escaped ':',
\\u003a) goes to build_request.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import orjson
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from gateway.json_types import INTEGER_RANGES
from gateway.routes import Route
from gateway.transcode import message_class

# The hot routes, by gRPC method.
HOT_METHODS = frozenset(
    {
        "storyverse.analytics.v1.AnalyticsService.RecordEvent",
        "storyverse.analytics.v1.AnalyticsService.RecordEvents",
        "storyverse.recommendation.v1.RecommendationService.Recommend",
        "storyverse.feedback.v1.FeedbackService.SubmitFeedback",
    }
)

_F = FieldDescriptor
STRING, BOOL, INTEGER, DOUBLE, MESSAGE, STRUCT, UNPLANNED = range(7)
# Integers beyond this are left to build_request (json_format's float conversion and errors).
_EXACT_INT = 2**53


class _Fallback(Exception):
    """The body is not one the plan covers: build_request answers it."""


class Plan:
    """JSON key -> (field name, kind, repeated, detail) for one message type."""

    __slots__ = ("fields", "name")

    def __init__(self, descriptor: Descriptor, plans: dict[str, Plan]) -> None:
        plans[descriptor.full_name] = self
        self.name = descriptor.full_name
        self.fields: dict[str, tuple[str, int, bool, object]] = {}
        real_oneofs = {o.name for o in descriptor.oneofs if not _synthetic(o)}
        for field in descriptor.fields:
            entry = (field.name, *_kind(field, real_oneofs, plans))
            self.fields[field.name] = entry
            self.fields.setdefault(field.json_name, entry)


def _synthetic(oneof) -> bool:  # an `optional` field's oneof
    return len(oneof.fields) == 1 and oneof.fields[0].has_presence and oneof.name.startswith("_")


def _kind(field: FieldDescriptor, real_oneofs: set[str], plans: dict[str, Plan]) -> tuple[int, bool, object]:
    repeated = field.is_repeated
    if field.containing_oneof is not None and field.containing_oneof.name in real_oneofs:
        return UNPLANNED, repeated, None
    kind = field.type
    if kind == _F.TYPE_STRING:
        return STRING, repeated, None
    if kind == _F.TYPE_BOOL:
        return BOOL, repeated, None
    if kind in INTEGER_RANGES:
        return INTEGER, repeated, INTEGER_RANGES[kind]
    if kind == _F.TYPE_DOUBLE:
        return DOUBLE, repeated, None
    if kind == _F.TYPE_MESSAGE:
        message = field.message_type
        if message.GetOptions().map_entry:
            return UNPLANNED, repeated, None
        if message.full_name == "google.protobuf.Struct":
            return (STRUCT, repeated, None) if not repeated else (UNPLANNED, repeated, None)
        if message.full_name.startswith("google."):
            return UNPLANNED, repeated, None
        plan = plans.get(message.full_name) or Plan(message, plans)
        return MESSAGE, repeated, plan
    return UNPLANNED, repeated, None  # float (json_format's own rounding), enum, bytes


def _convert(data: dict, plan: Plan, count: list[int]) -> dict:
    """Constructor kwargs for `data`; count[0] gains its keys and the ':' inside its strings."""
    out: dict = {}
    fields = plan.fields
    count[0] += len(data)
    for key, value in data.items():
        entry = fields.get(key)
        if entry is None or value is None:
            raise _Fallback
        name, kind, repeated, detail = entry
        if name in out:  # the proto name and the json_name both given
            raise _Fallback
        if repeated:
            if type(value) is not list:
                raise _Fallback
            out[name] = [_value(item, kind, detail, count) for item in value]
        else:
            out[name] = _value(value, kind, detail, count)
    return out


def _value(value: object, kind: int, detail: object, count: list[int]) -> object:
    t = type(value)
    if kind == STRING:
        if t is not str:
            raise _Fallback
        if ":" in value:  # type: ignore[operator]
            count[0] += value.count(":")  # type: ignore[attr-defined]
        return value
    if kind == MESSAGE:
        if t is not dict:
            raise _Fallback
        return _convert(value, detail, count)  # type: ignore[arg-type]
    if kind == INTEGER:
        low, high = detail  # type: ignore[misc]
        if t is not int or not low <= value <= high:  # type: ignore[operator]
            raise _Fallback
        return value
    if kind == DOUBLE:
        if t is float:
            if not math.isfinite(value):  # type: ignore[arg-type]
                raise _Fallback
            return value
        if t is not int or not -_EXACT_INT < value < _EXACT_INT:  # type: ignore[operator]
            raise _Fallback
        return value
    if kind == BOOL:
        if t is not bool:
            raise _Fallback
        return value
    if kind == STRUCT:
        if t is not dict:
            raise _Fallback
        _check_json(value, count)
        return value
    raise _Fallback


def _check_json(value: object, count: list[int]) -> None:
    """A google.protobuf.Value's JSON: anything, null included; counts keys and ':' in strings."""
    t = type(value)
    if t is dict:
        count[0] += len(value)  # type: ignore[arg-type]
        for key, item in value.items():  # type: ignore[attr-defined]
            if ":" in key:
                count[0] += key.count(":")
            _check_json(item, count)
    elif t is list:
        for item in value:  # type: ignore[attr-defined]
            _check_json(item, count)
    elif t is str:
        if ":" in value:  # type: ignore[operator]
            count[0] += value.count(":")  # type: ignore[attr-defined]
    elif t is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            raise _Fallback
    elif t is int:
        if not -_EXACT_INT < value < _EXACT_INT:  # type: ignore[operator]
            raise _Fallback
    elif value is not None and t is not bool:
        raise _Fallback


class FastTranscoder:
    """Plans for the hot routes of a router; `request(...)` is the message or None."""

    def __init__(self, routes: list[Route]) -> None:
        self._routes: dict[Route, tuple[type[Message], Plan, str]] = {}
        plans: dict[str, Plan] = {}
        for route in routes:
            if route.method.full_name not in HOT_METHODS or not route.body:
                continue
            request_type = route.method.input_type
            if route.body == "*":
                target = request_type
            else:
                field = request_type.fields_by_name[route.body]
                if field.type != _F.TYPE_MESSAGE or field.is_repeated:
                    continue
                target = field.message_type
            plan = plans.get(target.full_name) or Plan(target, plans)
            self._routes[route] = (message_class(request_type), plan, "" if route.body == "*" else route.body)

    def covers(self, route: Route) -> bool:
        return route in self._routes

    def request(
        self, route: Route, path_params: Mapping[str, str], query: Mapping[str, list[str]], raw_body: bytes
    ) -> Message | None:
        planned = self._routes.get(route)
        if planned is None or path_params or query or not raw_body:
            return None
        cls, plan, body_field = planned
        try:
            data = orjson.loads(raw_body)
        except orjson.JSONDecodeError:
            return None
        if type(data) is not dict:
            return None
        count = [0]
        try:
            kwargs = _convert(data, plan, count)
        except (_Fallback, RecursionError):
            return None
        if raw_body.count(b":") != count[0] or b"\\u003" in raw_body:
            return None  # a duplicate key (or an escaped ':'): build_request names it
        try:
            if body_field:
                # build_request parses into the (unset) body field: `{}` leaves it unset.
                return cls(**{body_field: kwargs}) if kwargs else cls()
            return cls(**kwargs)
        except (ValueError, TypeError, OverflowError, RecursionError):
            return None
