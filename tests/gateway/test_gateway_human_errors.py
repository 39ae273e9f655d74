"""Every HTTP error is JSON naming the field, in words meant for a person (issue 15): requests
aiohttp cannot parse, JSON values of the wrong type, out-of-range numbers and ids a route would
shadow, sent over real HTTP to the real gateway in front of the real services."""

from __future__ import annotations

import asyncio
import json
import uuid
from urllib.parse import urlsplit

import pytest

FEEDBACK = {
    "feedback_id": "feedback-987654",
    "user_id": "user-789012",
    "story_id": "story-123456",
    "timestamp": "2025-03-20T16:45:00Z",
    "rating": 4,
    "comment": "My son loved the story but thought the ending was a bit confusing.",
}
# Words of Python exceptions that reached clients before.
LEAKS = ("invalid literal", "bytes-like", "Couldn't parse", "Bool value", "Value out of range", "Traceback")


def assert_json_error(status: int, body: dict, code: int) -> None:
    assert status == code, body
    assert set(body) == {"code", "message", "details"} and body["code"] == code
    assert not any(leak in json.dumps(body) for leak in LEAKS), body


async def _raw(gateway_url: str, head: bytes) -> tuple[int, str, dict]:
    """Send raw request bytes; (status, content type, JSON body) of the answer."""
    url = urlsplit(gateway_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(head)
        await writer.drain()
        reply = await asyncio.wait_for(reader.read(), timeout=10)  # the gateway closes the connection
    finally:
        writer.close()
    head_part, _, body = reply.partition(b"\r\n\r\n")
    lines = head_part.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers.get("content-type", ""), json.loads(body)


async def test_a_request_line_over_the_limit_is_a_json_414(gateway_url):
    path = "/api/feedback/" + "a" * 9000
    status, content_type, body = await _raw(gateway_url, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert content_type.startswith("application/json")
    assert_json_error(status, body, 414)
    assert "URL is too long" in body["message"] and "aaaa" not in body["message"]


async def test_a_header_over_the_limit_or_too_many_headers_is_a_json_431(gateway_url):
    big = "a" * 9000
    status, content_type, body = await _raw(
        gateway_url, f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n".encode()
    )
    assert content_type.startswith("application/json")
    assert_json_error(status, body, 431)
    assert "header" in body["message"]
    many = "".join(f"X-H{n}: v\r\n" for n in range(200))
    status, _, body = await _raw(gateway_url, f"GET /healthz HTTP/1.1\r\nHost: x\r\n{many}\r\n".encode())
    assert_json_error(status, body, 431)


async def test_a_malformed_request_is_a_json_400(gateway_url):
    status, content_type, body = await _raw(gateway_url, b"GARBAGE\r\n\r\n")
    assert content_type.startswith("application/json")
    assert_json_error(status, body, 400)


async def _submit(http, gateway_url: str, **changes) -> tuple[int, dict]:
    entry = {**FEEDBACK, "feedback_id": f"fb-{uuid.uuid4().hex[:12]}", **changes}
    async with http.post(f"{gateway_url}/api/feedback", json=entry) as resp:
        return resp.status, await resp.json()


@pytest.mark.parametrize(
    ("changes", "description"),
    [
        ({"rating": "five"}, 'must be a whole number between 1 and 5, got "five"'),
        ({"rating": 4.5}, "must be a whole number between 1 and 5, got 4.5"),
        ({"rating": True}, "must be a whole number between 1 and 5, got true"),
        ({"rating": 99999999999}, "must be a whole number between 1 and 5, got 99999999999"),
        ({"rating": 0}, "must be between 1 and 5"),
        ({"rating": 9}, "must be between 1 and 5"),
        ({"rating": None}, "must be between 1 and 5"),  # left out: the range says what to send
        ({"child_age": "seven"}, None),
        ({"categories": "plot"}, "must be a JSON array, got a string"),
    ],
)
async def test_wrong_feedback_values_are_explained(http, gateway_url, changes, description):
    entry_changes = {k: v for k, v in changes.items() if v is not None}
    if changes.get("rating", 1) is None:
        entry = {k: v for k, v in FEEDBACK.items() if k != "rating"}
        async with http.post(f"{gateway_url}/api/feedback", json=entry) as resp:
            status, body = resp.status, await resp.json()
    else:
        status, body = await _submit(http, gateway_url, **entry_changes)
    assert_json_error(status, body, 400)
    (detail,) = body["details"]
    assert detail["field"] == "feedback." + next(iter(changes))
    if description is not None:
        assert detail["description"] == description
    else:
        assert detail["description"].startswith("must be a whole number")


async def test_a_numeric_timestamp_is_told_the_expected_format(http, gateway_url):
    status, body = await _submit(http, gateway_url, timestamp=1742489100)
    assert_json_error(status, body, 400)
    (detail,) = body["details"]
    assert detail["field"] == "feedback.timestamp"
    assert "RFC 3339" in detail["description"] and detail["description"].endswith("got 1742489100")
    event = {"event_id": "evt-x", "user_id": "u1", "timestamp": 1742489100, "event_type": "session_start"}
    async with http.post(f"{gateway_url}/api/analytics/events", json=event) as resp:
        status, body = resp.status, await resp.json()
    assert_json_error(status, body, 400)
    assert body["details"][0]["field"] == "event.timestamp"


@pytest.mark.parametrize("word", ["summary", "search", "alerts"])
async def test_story_ids_the_routes_use_are_refused_at_submission(http, gateway_url, word):
    status, body = await _submit(http, gateway_url, story_id=word)
    assert_json_error(status, body, 400)
    (detail,) = body["details"]
    assert detail["field"] == "feedback.story_id"
    assert f"/api/feedback/{word}" in detail["description"]
    # Any other id is stored and read back through GET /api/feedback/{story_id}.
    story = f"story-{uuid.uuid4().hex[:8]}"
    status, body = await _submit(http, gateway_url, story_id=story)
    assert status == 200, body
    async with http.get(f"{gateway_url}/api/feedback/{story}") as resp:
        assert resp.status == 200
        assert [f["story_id"] for f in (await resp.json())["feedback"]] == [story]


async def test_an_experiment_key_a_route_uses_is_refused(http, gateway_url):
    body = {  # POST /api/experiments takes the experiment itself
        "key": "assignments",
        "description": "x",
        "variants": [{"key": "control", "weight": 1}, {"key": "bigger", "weight": 1}],
    }
    async with http.post(f"{gateway_url}/api/experiments", json=body) as resp:
        status, reply = resp.status, await resp.json()
    assert_json_error(status, reply, 400)
    assert reply["details"][0]["field"] == "experiment.key"
    assert "/api/experiments/assignments" in reply["details"][0]["description"]
