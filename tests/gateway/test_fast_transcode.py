"""The hot routes' planned transcoding (gateway/fast_transcode.py) against today's transcoder
(transcode.build_request), differentially: on bodies generated from the request descriptors
(right types mostly, any JSON value sometimes, camelCase names, unknown keys) and on damaged
ones (bytes cut, inserted, keys duplicated, values nulled), whenever the fast path builds a
message, build_request builds the same one; otherwise the gateway runs build_request itself,
so every answer, error message included, is today's."""

from __future__ import annotations

import json

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import dataset
from gateway.errors import GatewayError
from gateway.fast_transcode import HOT_METHODS, FastTranscoder
from gateway.json_types import INTEGER_RANGES
from gateway.routes import build_router
from gateway.transcode import build_request
from tests.events import event_dict

ROUTER = build_router()
FAST = FastTranscoder(ROUTER.routes)
HOT = {
    "batch": ROUTER.resolve("POST", "/api/analytics/events:batch")[0],
    "event": ROUTER.resolve("POST", "/api/analytics/events")[0],
    "recommend": ROUTER.resolve("POST", "/api/recommendations")[0],
    "feedback": ROUTER.resolve("POST", "/api/feedback")[0],
}
_F = FieldDescriptor


def outcome(route, body: bytes) -> tuple:
    try:
        message = build_request(route, {}, {}, body)
    except GatewayError as exc:
        return ("error", exc.status, exc.message, [(v.field, v.description) for v in exc.details])
    return ("ok", message.SerializeToString(deterministic=True))


def check(route, body: bytes) -> bool:
    """True when the fast path took the body (and then built what build_request builds)."""
    fast = FAST.request(route, {}, {}, body)
    if fast is None:
        return False
    assert outcome(route, body) == ("ok", fast.SerializeToString(deterministic=True)), body
    assert fast == build_request(route, {}, {}, body)
    return True


# ---------------------------------------------------------------- generated bodies

TEXT = st.one_of(
    st.text(max_size=10),
    st.sampled_from(["tablet", "ios", "6-8", "dragon-ball", "2025-03-20T14:30:00Z", "a:b:c", "é✓", ""]),
)
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
ANY_JSON = st.recursive(
    SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=6
)


def scalar_of(field: FieldDescriptor) -> st.SearchStrategy:
    kind = field.type
    if kind == _F.TYPE_STRING:
        return TEXT
    if kind == _F.TYPE_BOOL:
        return st.booleans()
    if kind in INTEGER_RANGES:
        low, high = INTEGER_RANGES[kind]
        return st.one_of(
            st.integers(low, high), st.integers(-3, 60), st.sampled_from([low - 1, high + 1, 4.0])
        )
    if kind in (_F.TYPE_DOUBLE, _F.TYPE_FLOAT):
        return st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-1000, 100_000))
    return ANY_JSON


def value_of(field: FieldDescriptor, depth: int) -> st.SearchStrategy:
    message = field.message_type
    if message is not None and message.full_name == "google.protobuf.Struct":
        right = st.dictionaries(TEXT, ANY_JSON, max_size=4)
    elif message is not None and not message.full_name.startswith("google."):
        right = message_of(message, depth + 1) if depth < 3 else st.just({})
    elif message is not None:
        right = ANY_JSON
    else:
        right = scalar_of(field)
    if field.is_repeated:
        right = st.lists(right, max_size=4)
    return st.one_of(right, right, right, right, right, ANY_JSON)  # now and then, any JSON value


def message_of(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy:
    @st.composite
    def build(draw) -> dict:
        data = {}
        for field in descriptor.fields:
            if draw(st.integers(0, 9)) < 3:
                continue
            key = draw(st.sampled_from([field.name, field.name, field.json_name]))
            data[key] = draw(value_of(field, depth))
        if draw(st.integers(0, 19)) == 0:
            data[draw(TEXT)] = draw(ANY_JSON)  # an unknown key, now and then
        return data

    return build()


def body_strategy(name: str) -> st.SearchStrategy:
    route = HOT[name]
    request_type = route.method.input_type
    if route.body == "*":
        return message_of(request_type)
    return message_of(request_type.fields_by_name[route.body].message_type)


@st.composite
def damaged(draw, raw: bytes) -> bytes:
    how = draw(st.sampled_from(["cut", "insert", "duplicate", "null", "truncate", "escape"]))
    at = draw(st.integers(0, max(0, len(raw) - 1)))
    if how == "cut":
        return raw[:at] + raw[at + draw(st.integers(1, 4)) :]
    if how == "insert":
        return raw[:at] + draw(st.binary(min_size=1, max_size=3)) + raw[at:]
    if how == "duplicate":  # repeat the first key of some object right after its brace
        brace = raw.find(b"{", at)
        end = raw.find(b",", brace)
        return raw if brace < 0 or end < 0 else raw[: end + 1] + raw[brace + 1 : end + 1] + raw[end + 1 :]
    if how == "null":
        colon = raw.find(b": ", at)
        comma = raw.find(b",", colon)
        return raw if colon < 0 or comma < 0 else raw[: colon + 2] + b"null" + raw[comma:]
    if how == "escape":
        return raw.replace(b":", b"\\u003a", 1) if b'":' not in raw[:3] else raw
    return raw[:at]


@pytest.mark.parametrize("name", sorted(HOT))
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_bodies_build_what_build_request_builds(name, data):
    value = data.draw(body_strategy(name))
    check(HOT[name], json.dumps(value).encode())


@pytest.mark.parametrize("name", sorted(HOT))
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_bodies_build_what_build_request_builds(name, data):
    raw = json.dumps(data.draw(body_strategy(name))).encode()
    check(HOT[name], data.draw(damaged(raw)))


# ---------------------------------------------------------------- what the fast path must take


def test_the_hot_routes_are_planned():
    assert {route.method.full_name for route in HOT.values()} == HOT_METHODS
    assert all(FAST.covers(route) for route in HOT.values())


def test_the_benchmarks_and_the_seed_bodies_take_the_fast_path():
    requests = dataset.JsonRequests(dataset.templates(), dataset.IdSource("fast"))
    for _ in range(20):
        assert check(HOT["batch"], requests.build(100))
        assert check(HOT["event"], requests.build(1))
    assert check(HOT["event"], json.dumps(event_dict()).encode())
    assert check(HOT["batch"], json.dumps({"events": [event_dict(), event_dict()]}).encode())
    recommend = {
        "user_id": "user-789012",
        "context": {
            "current_story_id": "story-123456",
            "selected_universes": ["dragon-ball"],
            "age_group": "6-8",
        },
        "recommendation_types": ["universe", "character", "theme"],
        "limit": 5,
    }
    assert check(HOT["recommend"], json.dumps(recommend).encode())
    feedback = {
        "feedback_id": "fb-1",
        "user_id": "user-1",
        "story_id": "story-1",
        "timestamp": "2025-03-20T14:30:00Z",
        "rating": 5,
        "comment": "Loved it: really",
        "categories": ["plot"],
    }
    assert check(HOT["feedback"], json.dumps(feedback).encode())
    extras = event_dict()
    extras["properties"]["extras"] = {"a": None, "b": [1, "x:y", {"c": True}], "d": 1.5}
    assert check(HOT["event"], json.dumps(extras).encode())


@pytest.mark.parametrize(
    "body",
    [
        b'{"event_id": "evt-1", "event_id": "evt-2", "user_id": "u"}',  # duplicate key
        b'{"event_id": "evt-1", "eventId": "evt-2"}',  # one field under both names
        b'{"event_id": "evt\\u003a1", "user_id": "u", "user_id": "v"}',  # escaped ':' hides a duplicate
        b'{"event_id": "evt-1", "properties": {"creation_time": "450"}}',  # a number as a string
        b'{"event_id": "evt-1", "properties": {"position": 4.0}}',  # 4.0 for an integer
        b'{"event_id": "evt-1", "properties": {"creation_time": NaN}}',
        b'{"event_id": "evt-1", "properties": {"creation_time": 1e400}}',
        b'{"event_id": "evt-1", "properties": {"position": 123456789012345678901234567890}}',
        b'{"event_id": null}',
        b'{"event_id": "\\ud800"}',
        b'\xef\xbb\xbf{"event_id": "evt-1"}',
        b'{"event_id": "evt-1"',
        b"[]",
        b"   ",
    ],
)
def test_what_the_plan_does_not_cover_goes_to_build_request(body):
    assert FAST.request(HOT["event"], {}, {}, body) is None
