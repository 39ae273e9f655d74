"""JSON -> protobuf for the hot routes, planned once from the descriptors at start-up.

The hot routes (recording events one by one or in batches, recommendations, feedback) take
most of the gateway's traffic. For them, a plan is built from the request message's descriptor
(json_plan.py: per JSON key, proto name or json_name, the field and what its value must be).
Where the C extension is built, the compiled encoder (wire_plan.py) turns the body into the
request's wire bytes, parsed with upb; when it is not sure, the body is parsed with orjson and
turned into the constructor's keyword arguments by the plan, and the message built in one
constructor call (upb, in C).

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
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from gateway.json_plan import BOOL, DOUBLE, EXACT_INT, INTEGER, MESSAGE, STRING, STRUCT, Plan
from gateway.routes import Route
from gateway.transcode import message_class
from gateway.wire_plan import WirePlan

# The hot routes, by gRPC method.
HOT_METHODS = frozenset(
    {
        "storyverse.analytics.v1.AnalyticsService.RecordEvent",
        "storyverse.analytics.v1.AnalyticsService.RecordEvents",
        "storyverse.recommendation.v1.RecommendationService.Recommend",
        "storyverse.feedback.v1.FeedbackService.SubmitFeedback",
    }
)


# Objects and lists nested in a Struct: json_format refuses ~48 levels (its recursion limit of
# 100 counts each level's Value and Struct/ListValue); the plan stops well before.
_MAX_STRUCT_DEPTH = 24


class _Fallback(Exception):
    """The body is not one the plan covers: build_request answers it."""


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
        if t is not int or not -EXACT_INT < value < EXACT_INT:  # type: ignore[operator]
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


def _check_json(value: object, count: list[int], depth: int = 0) -> None:
    """A google.protobuf.Value's JSON: anything, null included; counts keys and ':' in strings."""
    if depth > _MAX_STRUCT_DEPTH:
        raise _Fallback
    t = type(value)
    if t is dict:
        count[0] += len(value)  # type: ignore[arg-type]
        for key, item in value.items():  # type: ignore[attr-defined]
            if ":" in key:
                count[0] += key.count(":")
            _check_json(item, count, depth + 1)
    elif t is list:
        for item in value:  # type: ignore[attr-defined]
            _check_json(item, count, depth + 1)
    elif t is str:
        if ":" in value:  # type: ignore[operator]
            count[0] += value.count(":")  # type: ignore[attr-defined]
    elif t is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            raise _Fallback
    elif t is int:
        if not -EXACT_INT < value < EXACT_INT:  # type: ignore[operator]
            raise _Fallback
    elif value is not None and t is not bool:
        raise _Fallback


class FastTranscoder:
    """Plans for the hot routes of a router; `request(...)` is the message or None."""

    def __init__(self, routes: list[Route]) -> None:
        self._routes: dict[Route, tuple[type[Message], Plan, str, WirePlan | None]] = {}
        plans: dict[str, Plan] = {}
        for route in routes:
            if route.method.full_name not in HOT_METHODS or not route.body:
                continue
            request_type = route.method.input_type
            if route.body == "*":
                target, wrapper = request_type, 0
            else:
                field = request_type.fields_by_name[route.body]
                if field.type != FieldDescriptor.TYPE_MESSAGE or field.is_repeated:
                    continue
                target, wrapper = field.message_type, field.number
            plan = plans.get(target.full_name) or Plan(target, plans)
            body_field = "" if route.body == "*" else route.body
            wire_plan = WirePlan.build(plan, wrapper)
            self._routes[route] = (message_class(request_type), plan, body_field, wire_plan)

    def covers(self, route: Route) -> bool:
        return route in self._routes

    def request(
        self, route: Route, path_params: Mapping[str, str], query: Mapping[str, list[str]], raw_body: bytes
    ) -> Message | None:
        planned = self._routes.get(route)
        if planned is None or path_params or query or not raw_body:
            return None
        cls, plan, body_field, wire_plan = planned
        if wire_plan is not None:  # the compiled encoder first; "not sure": the Python path below
            wire = wire_plan.encode(raw_body)
            if wire is not None:
                return cls.FromString(wire)
        return self.python_request(route, raw_body)

    def python_request(self, route: Route, raw_body: bytes) -> Message | None:
        """The Python path alone (orjson, kwargs, one constructor call)."""
        cls, plan, body_field, _ = self._routes[route]
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

    def wire(self, route: Route, raw_body: bytes) -> bytes | None:
        """The compiled encoder alone: the request's wire bytes, or None (not sure, or not built)."""
        wire_plan = self._routes[route][3]
        return None if wire_plan is None else wire_plan.encode(raw_body)
