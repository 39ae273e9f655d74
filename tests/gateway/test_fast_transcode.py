"""The hot routes' planned transcoding against today's transcoder (transcode.build_request),
differentially: on bodies generated from the request descriptors (right types mostly, any JSON
value sometimes, camelCase names, unknown keys; written with escapes, raw UTF-8, numbers in
every JSON shape, any white space) and on damaged ones (bytes cut, inserted, keys duplicated,
values nulled or replaced by a wrong type, NaN or a huge number, invalid UTF-8, trailing
garbage). Both fast paths are checked: the Python one (fast_transcode.py: orjson, kwargs,
a constructor call) and the compiled encoder (wire_plan.py + _json_wire.c: wire bytes parsed
with FromString). Whenever either builds a message, build_request builds the same one; the
encoder takes no body the Python path declines. Otherwise the gateway runs build_request
itself, so every answer, error message included, is today's."""

from __future__ import annotations

import json
import math
import shutil
import sysconfig
import uuid

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import dataset
from gateway import wire_plan
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


COMPILER = shutil.which((sysconfig.get_config_var("CC") or "cc").split()[0])


def check(route, body: bytes) -> tuple[bool, bool]:
    """(the Python path took the body, the compiled encoder took it); what either builds is
    what build_request builds, and the encoder takes nothing the Python path declines but
    bodies with a \\u003X escape (the Python path's duplicate test counts ':' and declines
    them; the encoder finds duplicates itself)."""
    expected = outcome(route, body)
    python = FAST.python_request(route, body)
    if python is not None:
        assert expected == ("ok", python.SerializeToString(deterministic=True)), body
        assert python == build_request(route, {}, {}, body)
    wire = FAST.wire(route, body)
    if wire is not None:
        assert python is not None or b"\\u003" in body, (
            f"the encoder took what the Python path declines: {body!r}"
        )
        message = type(build_request(route, {}, {}, body)).FromString(wire)
        assert message == (python or build_request(route, {}, {}, body)), body
        assert expected == ("ok", message.SerializeToString(deterministic=True)), body
    # The gateway's call: the encoder first, then the Python path.
    assert FAST.request(route, {}, {}, body) == (message if wire is not None else python)
    return python is not None, wire is not None


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


def escaped(char: str) -> str:
    """`char` as a JSON \\u escape (a surrogate pair beyond the BMP)."""
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04x}"


SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


@st.composite
def string_text(draw, text: str) -> str:
    """`text` as a JSON string, each character raw where JSON allows it or escaped."""
    out = ['"']
    for char in text:
        must = char in SHORT_ESCAPES or ord(char) < 0x20 or 0xD800 <= ord(char) <= 0xDFFF
        how = draw(st.sampled_from(["raw", "raw", "raw", "short", "u"]))
        if char == "/" and how == "short":
            out.append("\\/")
        elif how == "short" and char in SHORT_ESCAPES or (must and how == "raw" and char in SHORT_ESCAPES):
            out.append(SHORT_ESCAPES[char])
        elif how == "u" or must:
            out.append(escaped(char))
        else:
            out.append(char)
    return "".join(out) + '"'


@st.composite
def number_text(draw, value: int | float) -> str:
    """`value` in one of the JSON shapes that read back as the same Python value."""
    if type(value) is int:
        return str(value)
    if not math.isfinite(value):
        return json.dumps(value)  # NaN, Infinity: not JSON, both paths decline
    shapes = [repr(value), f"{value:.17e}", f"{value:.17E}", f"{value:.17g}"]
    if value == int(value) and abs(value) < 1e15:
        shapes += [f"{int(value)}.0", f"{int(value)}e0", f"{int(value)}E+0"]
    text = draw(st.sampled_from(shapes))
    if "." not in text and "e" not in text.lower() and "n" not in text:
        text += ".0"  # "%g" may drop the point: still a float
    return text


SPACE = st.sampled_from(["", "", " ", "\n  ", "\t", "\r\n"])


@st.composite
def json_text(draw, value: object) -> str:
    """`value` as JSON text, with white space and string and number shapes drawn."""
    if isinstance(value, dict):
        items = [
            draw(SPACE)
            + draw(string_text(k))
            + draw(SPACE)
            + ":"
            + draw(SPACE)
            + draw(json_text(v))
            + draw(SPACE)
            for k, v in value.items()
        ]
        return "{" + ",".join(items) + draw(SPACE) + "}"
    if isinstance(value, list):
        return (
            "[" + ",".join(draw(SPACE) + draw(json_text(v)) + draw(SPACE) for v in value) + draw(SPACE) + "]"
        )
    if isinstance(value, str):
        return draw(string_text(value))
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return draw(number_text(value))


@st.composite
def body_bytes(draw, name: str) -> bytes:
    """A generated body, written by json.dumps or with every shape drawn (raw UTF-8 included)."""
    value = draw(body_strategy(name))
    if draw(st.booleans()):
        return json.dumps(value).encode()
    return draw(json_text(value)).encode("utf-8", "surrogatepass")  # lone surrogates: invalid UTF-8


@st.composite
def damaged(draw, raw: bytes) -> bytes:
    how = draw(
        st.sampled_from(
            [
                "cut",
                "insert",
                "duplicate",
                "null",
                "truncate",
                "escape",
                "wrong",
                "number",
                "utf8",
                "trailing",
            ]
        )
    )
    at = draw(st.integers(0, max(0, len(raw) - 1)))
    if how == "cut":
        return raw[:at] + raw[at + draw(st.integers(1, 4)) :]
    if how == "insert":
        return raw[:at] + draw(st.binary(min_size=1, max_size=3)) + raw[at:]
    if how == "duplicate":  # repeat the first key of some object right after its brace
        brace = raw.find(b"{", at)
        end = raw.find(b",", brace)
        return raw if brace < 0 or end < 0 else raw[: end + 1] + raw[brace + 1 : end + 1] + raw[end + 1 :]
    if how in ("null", "wrong", "number"):  # some value replaced
        colon = raw.find(b": ", at)
        comma = raw.find(b",", colon)
        value = {
            "null": [b"null"],
            "wrong": [b'"4"', b"4", b"4.0", b"true", b"[]", b"{}", b'["x"]', b"[null]", b"-0", b"1e2"],
            "number": [
                b"NaN",
                b"Infinity",
                b"-Infinity",
                b"1e400",
                b"-1e-400",
                b"5e-324",
                b"18446744073709551616",
                b"9007199254740993",
                b"-9223372036854775809",
                b"2147483648",
                b"01",
                b"1.",
                b"-",
                b"+1",
            ],
        }[how]
        return (
            raw if colon < 0 or comma < 0 else raw[: colon + 2] + draw(st.sampled_from(value)) + raw[comma:]
        )
    if how == "escape":
        return raw.replace(b":", b"\\u003a", 1) if b'":' not in raw[:3] else raw
    if how == "utf8":  # into some string: a byte no UTF-8 has, a cut sequence, a lone surrogate
        quote = raw.find(b'"', at)
        bad = draw(
            st.sampled_from(
                [b"\xff", b"\xc3", b"\xe2\x9c", b"\xed\xa0\x80", b"\xc0\xaf", b"\\ud800", b"\\udc00x"]
            )
        )
        return raw if quote < 0 else raw[: quote + 1] + bad + raw[quote + 1 :]
    if how == "trailing":
        return raw + draw(st.sampled_from([b"x", b"{}", b",", b" 1", b"\x00"]))
    return raw[:at]


@pytest.mark.parametrize("name", sorted(HOT))
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_bodies_build_what_build_request_builds(name, data):
    check(HOT[name], data.draw(body_bytes(name)))


@pytest.mark.parametrize("name", sorted(HOT))
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_bodies_build_what_build_request_builds(name, data):
    raw = data.draw(body_bytes(name))
    check(HOT[name], data.draw(damaged(raw)))


# ---------------------------------------------------------------- what the fast path must take


def test_the_hot_routes_are_planned():
    assert {route.method.full_name for route in HOT.values()} == HOT_METHODS
    assert all(FAST.covers(route) for route in HOT.values())


BUILT = wire_plan._json_wire is not None
BOTH = (True, BUILT)  # check()'s answer for a body both fast paths must take


def test_the_encoder_is_built_where_a_compiler_is():
    """setup.py builds _json_wire.c wherever a C compiler is: there the hot routes must not
    silently run the slower Python path (a broken build would hide that way)."""
    assert bool(COMPILER) == BUILT, "gateway/_json_wire.c was not built (pip install -e .)"


def test_the_benchmarks_and_the_seed_bodies_take_the_fast_path():
    requests = dataset.JsonRequests(dataset.templates(), dataset.IdSource("fast"))
    for _ in range(20):
        assert check(HOT["batch"], requests.build(100)) == BOTH
        assert check(HOT["event"], requests.build(1)) == BOTH
    assert check(HOT["event"], json.dumps(event_dict()).encode()) == BOTH
    assert check(HOT["batch"], json.dumps({"events": [event_dict(), event_dict()]}).encode()) == BOTH
    assert check(HOT["recommend"], json.dumps(RECOMMEND).encode()) == BOTH
    assert check(HOT["feedback"], json.dumps(FEEDBACK).encode()) == BOTH
    extras = event_dict()
    extras["properties"]["extras"] = {"a": None, "b": [1, "x:y", {"c": True}], "d": 1.5}
    assert check(HOT["event"], json.dumps(extras).encode()) == BOTH


RECOMMEND = {
    "user_id": "user-789012",
    "context": {
        "current_story_id": "story-123456",
        "selected_universes": ["dragon-ball"],
        "age_group": "6-8",
    },
    "recommendation_types": ["universe", "character", "theme"],
    "limit": 5,
}
FEEDBACK = {
    "feedback_id": "fb-1",
    "user_id": "user-1",
    "story_id": "story-1",
    "timestamp": "2025-03-20T14:30:00Z",
    "rating": 5,
    "comment": "Loved it: really",
    "categories": ["plot"],
}


@pytest.mark.parametrize(
    "body",
    [
        b"{}",  # the body field stays unset
        b'{"properties": {}}',  # set, empty
        b'{"properties": {"universes": []}}',
        b'  {"event_id":"e","properties":{"extras":{}}}\r\n',
        '{"event_id": "été ✓ 𝄞", "user_id": "\\u00e9\\ud834\\udd1e\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000"}'.encode(),  # noqa: E501
        b'{"properties": {"creation_time": -0, "duration": -0.0, "position": -0}}',
        b'{"properties": {"creation_time": 9007199254740991, "duration": 1E-5, "position": -2147483648}}',
        b'{"properties": {"duration": 1.7976931348623157e308, "position": 2147483647}}',
        b'{"properties": {"extras": {"a": {"b": [[], {}, [1, -0, -0.0, 2.5e-3, "x"]]}, "": null, "\\u00e9": 1}}}',  # noqa: E501
        b'{"properties": {"extras": {"n": -9007199254740991, "e": 1e22, "f": false, "s": "\\ud83d\\ude00"}}}',
    ],
)
def test_the_encoder_builds_what_build_request_builds(body):
    assert check(HOT["event"], body) == BOTH


@pytest.mark.parametrize("levels", [10, 12, 13, 24, 60])
def test_deep_structs_are_left_to_build_request(levels):
    """json_format refuses Structs nested ~48 levels deep; both fast paths stop well before."""
    deep = b'{"properties": {"extras": ' + b'{"a": [' * levels + b"1" + b"]}" * levels + b"}}"
    python, wire = check(HOT["event"], deep)
    assert python == (levels <= 12) and wire == (BUILT and levels <= 12)


def test_long_messages_and_strings_get_their_lengths_right():
    """Lengths past one varint byte (the content moved forward) at every level."""
    long = "x" * 200 + "é" * 100
    event = event_dict(event_id=long, user_id="u" * 20000)
    event["properties"]["extras"] = {long: [long] * 70, "deep": {"k" * 300: {"l": "m" * 17000}}}
    assert check(HOT["event"], json.dumps(event).encode()) == BOTH
    assert check(HOT["batch"], json.dumps({"events": [event] * 5}).encode()) == BOTH


@pytest.mark.parametrize(
    "body",
    [
        b'{"event_id": "evt-1", "event_id": "evt-2", "user_id": "u"}',  # duplicate key
        b'{"event_id": "evt-1", "eventId": "evt-2"}',  # one field under both names
        b'{"event_id": "evt\\u003a1", "user_id": "u", "user_id": "v"}',  # escaped ':' hides a duplicate
        b'{"properties": {"story_id": "s", "storyId": "t"}}',  # a duplicate one level down
        b'{"properties": {"extras": {"a": 1, "b": 2, "a": 3}}}',  # in a Struct
        b'{"properties": {"extras": {"a": 1, "\\u0061": 2}}}',  # in a Struct, escaped
        b'{"properties": {"extras": {"l": [{"a": 1, "a": 1}]}}}',  # in a Struct, deep down
        b'{"event_id": "evt-1", "properties": {"creation_time": "450"}}',  # a number as a string
        b'{"event_id": "evt-1", "properties": {"position": 4.0}}',  # 4.0 for an integer
        b'{"event_id": "evt-1", "properties": {"position": 4e0}}',
        b'{"event_id": "evt-1", "properties": {"position": 2147483648}}',
        b'{"event_id": "evt-1", "properties": {"creation_time": NaN}}',
        b'{"event_id": "evt-1", "properties": {"creation_time": 1e400}}',
        b'{"event_id": "evt-1", "properties": {"creation_time": 9007199254740992}}',
        b'{"event_id": "evt-1", "properties": {"extras": {"big": 9007199254740992}}}',
        b'{"event_id": "evt-1", "properties": {"extras": {"inf": -Infinity}}}',
        b'{"event_id": "evt-1", "properties": {"position": 123456789012345678901234567890}}',
        b'{"event_id": null}',
        b'{"properties": {"universes": [null]}}',
        b'{"properties": {"universes": "u"}}',
        b'{"event_id": ["e"]}',
        b'{"event_id": "\\ud800"}',
        b'{"event_id": "\\udc00\\ud800"}',
        b'{"\\ud800": 1}',  # a key no UTF-8 holds (build_request: 400, was a SystemError)
        b'{"properties": {"extras": {"\\udfff": 1}}}',
        b'{"event_id": "\xff"}',
        b'{"event_id": "\xed\xa0\x80"}',
        b'{"event_id": "tab\there"}',
        b'\xef\xbb\xbf{"event_id": "evt-1"}',
        b'{"event_id": "evt-1"',
        b'{"event_id": "evt-1"}x',
        b'{"event_id": "evt-1",}',
        b'{"properties": {"extras": {"a": [1,]}}}',
        b"[]",
        b"   ",
        b"",
    ],
)
def test_what_the_plan_does_not_cover_goes_to_build_request(body):
    assert FAST.wire(HOT["event"], body) is None
    assert FAST.request(HOT["event"], {}, {}, body) is None
    outcome(HOT["event"], body)  # build_request answers it (an error other than GatewayError fails)


# ---------------------------------------------------------------- over HTTP


def escaped_twin(body: bytes) -> bytes:
    """The same JSON with its first "user_id" key escaped: the encoder declines escaped keys,
    the Python path reads it as the same body."""
    assert b'"user_id"' in body
    return body.replace(b'"user_id"', b'"user\\u005fid"', 1)


def bad_event(event_id: str) -> dict:
    return event_dict(event_id=event_id, timestamp="yesterday")


@pytest.mark.parametrize(
    "case", ["batch", "batch-invalid", "event-invalid", "feedback-reserved", "feedback-rating"]
)
async def test_the_gateway_answers_the_same_whichever_path_transcodes(http, gateway_url, case):
    """Each body is sent as it is (the encoder takes it) and as its escaped twin (the Python
    path takes it): the answers are the same, rejections and their words included."""
    run = uuid.uuid4().hex[:10]
    path, route, body, twin = {
        "batch": lambda: (
            "/api/analytics/events:batch",
            HOT["batch"],
            json.dumps({"events": [event_dict(event_id=f"evt-a{i}-{run}") for i in range(3)]}).encode(),
            json.dumps({"events": [event_dict(event_id=f"evt-b{i}-{run}") for i in range(3)]}).encode(),
        ),
        "batch-invalid": lambda: (
            "/api/analytics/events:batch",
            HOT["batch"],
            json.dumps({"events": [bad_event(f"evt-c-{run}"), bad_event(f"evt-d-{run}")]}).encode(),
            None,
        ),
        "event-invalid": lambda: (
            "/api/analytics/events",
            HOT["event"],
            json.dumps(bad_event(run)).encode(),
            None,
        ),
        "feedback-reserved": lambda: (
            "/api/feedback",
            HOT["feedback"],
            json.dumps({**FEEDBACK, "feedback_id": f"fb-{run}", "story_id": "summary"}).encode(),
            None,
        ),
        "feedback-rating": lambda: (
            "/api/feedback",
            HOT["feedback"],
            json.dumps({**FEEDBACK, "feedback_id": f"fb-{run}", "rating": 9}).encode(),
            None,
        ),
    }[case]()
    twin = escaped_twin(twin or body)
    assert (FAST.wire(route, body) is not None) == BUILT
    assert FAST.wire(route, twin) is None and FAST.python_request(route, twin) is not None
    answers = []
    for sent in (body, twin):
        async with http.post(
            gateway_url + path, data=sent, headers={"Content-Type": "application/json"}
        ) as resp:
            answers.append((resp.status, await resp.json()))
    assert answers[0] == answers[1]
    assert answers[0][0] == (200 if case.startswith("batch") else 400), answers[0]
