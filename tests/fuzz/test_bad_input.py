"""Bad input through the real gateway: every case gets a clear 4xx in the JSON error shape."""

from __future__ import annotations

import json

import pytest

from tests.events import event_dict

EVENTS = "/api/analytics/events"


def with_properties(**props) -> str:
    data = event_dict()
    data["properties"].update(props)
    return json.dumps(data)


CASES = [
    ("malformed JSON", "POST", EVENTS, '{"event_id": "e1",', 400),
    ("not an object", "POST", EVENTS, "[1, 2, 3]", 400),
    ("wrong type", "POST", EVENTS, json.dumps({**event_dict(), "event_id": 12345}), 400),
    ("number as string list", "POST", EVENTS, with_properties(universes="dragon-ball"), 400),
    ("huge string", "POST", EVENTS, with_properties(theme="x" * 100_000), 400),
    ("odd unicode", "POST", EVENTS, with_properties(theme="\u202edragon\u0000🐉"), 400),
    ("lone surrogate", "POST", EVENTS, '{"event_id": "\\ud800", "user_id": "u"}', 400),
    ("SQL-looking id", "POST", EVENTS, json.dumps({**event_dict(), "user_id": "1' OR '1'='1"}), 400),
    ("unknown field", "POST", EVENTS, json.dumps({**event_dict(), "is_admin": True}), 400),
    ("path traversal", "GET", "/api/analytics/reports/..%2F..%2Fetc%2Fpasswd", None, 400),
    ("path traversal (static)", "GET", "/../../etc/passwd", None, 404),
    (
        "SQL in a query",
        "GET",
        "/api/analytics/dashboard?age_group=1%27%3B%20DROP%20TABLE%20events",
        None,
        400,
    ),
    ("bad integer", "GET", "/api/analytics/dashboard?realtime_minutes=abc", None, 400),
    ("huge integer", "GET", "/api/analytics/dashboard?realtime_minutes=99999999999999999999", None, 400),
    ("NUL in a story id", "GET", "/api/feedback/story%00id", None, 400),
    ("NUL in free text", "GET", "/api/feedback/search?q=dragon%00", None, 400),
    ("batch too large", "POST", EVENTS + ":batch", json.dumps({"events": [event_dict()] * 1001}), 400),
]


@pytest.mark.parametrize("name, method, path, body, status", CASES, ids=[c[0] for c in CASES])
async def test_bad_input_gets_a_clear_4xx(http, gateway_url, name, method, path, body, status):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    async with http.request(method, gateway_url + path, data=body, headers=headers) as resp:
        text = await resp.text()
        assert resp.status == status, text
        error = json.loads(text)
    assert set(error) == {"code", "message", "details"} and error["code"] == status
    assert error["message"] and "Traceback" not in text


async def test_nul_in_a_rejected_event_does_not_fail_the_batch(http, gateway_url, db):
    """Regression (schemathesis): a rejected event whose payload held NUL failed the whole
    group-commit transaction with 500, taking other callers' events with it."""
    good = event_dict()
    bad = event_dict(event_type="story_creation\u0000")
    async with http.post(f"{gateway_url}{EVENTS}:batch", json={"events": [good, bad]}) as resp:
        assert resp.status == 200, await resp.text()
        result = (await resp.json())["result"]
    assert (result["accepted"], result["rejected"]) == (1, 1)
    assert await db.fetchval("SELECT count(*) FROM failed_events WHERE event_id = $1", bad["event_id"]) == 1
