"""End to end over real HTTP and real gRPC on loopback: the gateway in front of the real
services (tests/conftest.py starts them on the test database)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from gateway_helpers import contract_binding_count, start_gateway
from openapi_spec_validator import validate

from common.bus.inprocess import InProcessBus
from gateway.openapi import openapi_path
from gateway.routes import build_router
from tests.conftest import start_service

SEED_EVENT = (
    '{"event_id": "evt-123456", "user_id": "user-789012", "timestamp": "2025-03-20T14:30:00Z", '
    '"event_type": "story_creation", "properties": {"story_id": "story-123456", "universes": '
    '["dragon-ball", "toy-story"], "characters": ["goku", "woody", "buzz"], "theme": "friendship", '
    '"moral_lesson": "teamwork", "creation_time": 450, "device_type": "tablet", "platform": "ios"}, '
    '"session_id": "session-345678"}'
)


FRIGHTENED = "The witch scene was terrifying, my 4 year old had nightmares all week."


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def seed_event(event_id: str) -> str:
    """The issue's example JSON verbatim, with an event id of the test's own."""
    return SEED_EVENT.replace('"evt-123456"', json.dumps(event_id))


def assert_error_shape(body: dict, code: int) -> None:
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    for detail in body["details"]:
        assert set(detail) == {"field", "description"}


async def test_the_seed_event_is_stored_as_sent(http, gateway_url, db):
    event_id = fresh("evt")
    headers = {"Content-Type": "application/json", "X-Request-Id": "req-42"}
    async with http.post(
        f"{gateway_url}/api/analytics/events", data=seed_event(event_id), headers=headers
    ) as resp:
        assert resp.status == 200, await resp.text()
        assert resp.headers["X-Request-Id"] == "req-42"
        body = await resp.json()
    # Default values are emitted: every field of the reply is present.
    assert body == {
        "result": {"accepted": 1, "duplicates": 0, "rejected": 0, "rejections": [], "duplicate_indexes": []}
    }
    row = await db.fetchrow(
        "SELECT user_id, event_type, session_id, universes, characters, theme, creation_time"
        " FROM events WHERE event_id = $1",
        event_id,
    )
    assert dict(row) == {
        "user_id": "user-789012",
        "event_type": "story_creation",
        "session_id": "session-345678",
        "universes": ["dragon-ball", "toy-story"],
        "characters": ["goku", "woody", "buzz"],
        "theme": "friendship",
        "creation_time": 450,
    }


async def test_the_request_id_reaches_the_service(http, gateway_url, db):
    """The erasure audit log keeps the caller's request id: it travelled as gRPC metadata."""
    user = fresh("user")
    async with http.delete(
        f"{gateway_url}/api/admin/users/{user}", headers={"X-Request-Id": "req-77"}
    ) as resp:
        assert resp.status == 200, await resp.text()
        audit_id = (await resp.json())["audit_id"]
    assert await db.fetchval("SELECT request_id FROM privacy_audit WHERE id = $1", int(audit_id)) == "req-77"
    async with http.post(f"{gateway_url}/api/analytics/events", data=seed_event(fresh("evt"))) as resp:
        assert resp.status == 200
        assert resp.headers["X-Request-Id"] != ""  # made up when the client sends none


async def test_service_field_violations_become_400_with_details(http, gateway_url):
    event = json.loads(seed_event(fresh("evt")))
    event["properties"]["device_type"] = "toaster"
    async with http.post(f"{gateway_url}/api/analytics/events", json=event) as resp:
        assert resp.status == 400
        body = await resp.json()
    assert_error_shape(body, 400)
    assert [d["field"] for d in body["details"]] == ["event.properties.device_type"]


async def test_resource_exhausted_is_429_with_retry_after(http, settings, gateway_settings):
    from analytics_svc.service import SPEC

    # A bus of its own: in process a consumer group has one subscriber (the session's service).
    busy = await start_service(SPEC, replace(settings, max_concurrent_calls=1), InProcessBus())
    server = await start_gateway(replace(gateway_settings, analytics_target=f"127.0.0.1:{busy.port}"))
    try:

        async def dashboard():
            async with http.get(server.make_url("/api/analytics/dashboard")) as resp:
                return resp.status, resp.headers.get("Retry-After"), await resp.json()

        replies = await asyncio.gather(*(dashboard() for _ in range(10)))
        statuses = [status for status, _, _ in replies]
        assert 200 in statuses and 429 in statuses, statuses
        _, retry_after, body = next(r for r in replies if r[0] == 429)
        assert retry_after == "1"
        assert_error_shape(body, 429)
    finally:
        await server.close()
        await busy.stop(grace=1)


async def test_unimplemented_is_501(http, gateway_settings):
    # A server that does not host the recommendation service answers UNIMPLEMENTED.
    server = await start_gateway(replace(gateway_settings, reco_target=gateway_settings.analytics_target))
    try:
        async with http.get(
            server.make_url("/api/recommendations/universes?user_id=user-1&age_group=6-8")
        ) as resp:
            assert resp.status == 501
            assert_error_shape(await resp.json(), 501)
    finally:
        await server.close()


async def test_deadline_exceeded_is_504(http, gateway_settings):
    server = await start_gateway(replace(gateway_settings, gateway_deadline_seconds=0.001))
    try:
        async with http.get(server.make_url("/api/analytics/dashboard")) as resp:
            assert resp.status == 504
            assert_error_shape(await resp.json(), 504)
    finally:
        await server.close()


@pytest.mark.parametrize("path", ["/api/nope", "/api/feedback/a/b/c", "/no-such-page.html"])
async def test_unknown_paths_are_404_json(http, gateway_url, path):
    async with http.get(gateway_url + path) as resp:
        assert resp.status == 404
        assert_error_shape(await resp.json(), 404)


async def test_wrong_method_is_405_with_allow(http, gateway_url):
    async with http.delete(f"{gateway_url}/api/feedback/summary") as resp:
        assert resp.status == 405
        assert resp.headers["Allow"] == "GET"
        assert_error_shape(await resp.json(), 405)
    async with http.get(f"{gateway_url}/api/analytics/events") as resp:
        assert resp.status == 405
        assert resp.headers["Allow"] == "POST"


async def test_literal_route_wins_over_the_story_id_variable(http, gateway_url):
    # page_size is a field of ListStoryFeedback ({story_id}) but not of GetFeedbackSummary:
    # the 400 shows /summary was routed to GetFeedbackSummary.
    async with http.get(f"{gateway_url}/api/feedback/summary?page_size=5") as resp:
        assert resp.status == 400
        assert (await resp.json())["details"][0]["field"] == "page_size"
    async with http.get(f"{gateway_url}/api/feedback/{fresh('story')}?page_size=5") as resp:
        assert resp.status == 200, await resp.text()  # ListStoryFeedback: a page, empty here
        assert (await resp.json())["feedback"] == []


async def test_unknown_query_parameter_is_400_naming_it(http, gateway_url):
    async with http.get(f"{gateway_url}/api/analytics/dashboard?platform=ios&colour=red") as resp:
        assert resp.status == 400
        body = await resp.json()
    assert_error_shape(body, 400)
    assert body["details"][0]["field"] == "colour"
    assert "colour" in body["message"]


async def test_badly_typed_query_parameter_is_400_naming_it(http, gateway_url):
    async with http.get(f"{gateway_url}/api/analytics/dashboard?realtime_minutes=soon") as resp:
        assert resp.status == 400
        assert (await resp.json())["details"][0]["field"] == "realtime_minutes"


async def test_repeated_query_parameters_and_path_variables(http, gateway_url):
    user, now = fresh("user"), datetime.now(UTC)
    for n, kind in enumerate(["story_started", "story_creation"]):
        event = json.loads(seed_event(fresh("evt"))) | {"user_id": user, "event_type": kind}
        event["timestamp"] = (now - timedelta(minutes=5 - n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        async with http.post(f"{gateway_url}/api/analytics/events", json=event) as resp:
            assert resp.status == 200, await resp.text()
    url = f"{gateway_url}/api/analytics/reports/funnel?steps=story_started&steps=story_creation"
    async with http.get(url) as resp:
        assert resp.status == 200, await resp.text()
        body = await resp.json()
    assert body["report_type"] == "funnel"  # the path variable
    table = body["tables"][0]
    names = [row[table["columns"].index("name")] for row in table["rows"]]
    assert names == ["story_started", "story_creation"], table  # both repeated values


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ('{"event_id": "evt-1",', None),  # malformed
        ('["evt-1"]', None),  # not an object
        ('{"event_id": "evt-1", "event_id": "evt-2"}', "event.event_id"),  # duplicate key
        ('{"event_id": 5}', "event.event_id"),  # wrong type
        ('{"properties": {"colour": "red"}}', "event.properties.colour"),  # unknown nested field
        ('{"properties": {"creation_time": "long"}}', "event.properties.creation_time"),
    ],
)
async def test_bad_json_bodies_are_400(http, gateway_url, payload, field):
    async with http.post(
        f"{gateway_url}/api/analytics/events", data=payload, headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 400
        body = await resp.json()
    assert_error_shape(body, 400)
    if field:
        assert body["details"][0]["field"] == field, body


async def test_body_over_the_limit_is_413_json(http, gateway_settings):
    server = await start_gateway(replace(gateway_settings, max_request_bytes=64 * 1024))
    try:
        event = json.loads(seed_event(fresh("evt")))
        event["properties"]["theme"] = "x" * (64 * 1024 + 1)
        async with http.post(server.make_url("/api/analytics/events"), json=event) as resp:
            assert resp.status == 413
            assert_error_shape(await resp.json(), 413)
    finally:
        await server.close()


async def test_openapi_document_is_valid_and_lists_every_route(http, gateway_url):
    async with http.get(f"{gateway_url}/api/openapi.json") as resp:
        assert resp.status == 200
        document = await resp.json()
    validate(document)
    routes = build_router().routes
    assert len(routes) == contract_binding_count()
    for route in routes:
        assert route.http_method.lower() in document["paths"][openapi_path(route)], route.template.source


async def test_csv_export_is_written_raw_with_its_content_type(http, gateway_url):
    async with http.get(f"{gateway_url}/api/analytics/reports/story_creation/csv") as resp:
        assert resp.status == 200, await resp.text()
        assert resp.content_type == "text/csv"
        text = (await resp.read()).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["# story_creation"], text[:200]  # each table: its name, header, rows
    assert rows[1][:3] == ["bucket", "stories", "creators"], text[:200]


async def test_watch_alerts_streams_ndjson_and_stops_when_the_client_leaves(http, gateway_url, feedback):
    story = fresh("story")
    report = {
        "feedback_id": fresh("fb"),
        "user_id": fresh("user"),
        "story_id": story,
        "rating": 1,
        "comment": FRIGHTENED,
        "categories": ["scary_content"],
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    # The headers arrive once the service registered the watch: what happens next is seen.
    async with http.get(f"{gateway_url}/api/alerts:watch?kinds=safety") as resp:
        assert resp.status == 200
        assert resp.content_type == "application/x-ndjson"
        async with http.post(f"{gateway_url}/api/feedback", json=report) as posted:
            assert posted.status == 200, await posted.text()
        while True:  # alerts of other tests' stories may come first
            line = json.loads(await asyncio.wait_for(resp.content.readline(), timeout=10))
            if line["result"]["alert"]["story_id"] == story:
                break
    assert line["result"]["alert"]["kind"] == "safety"
    # The client has gone (the response is closed): the service's stream ends too.
    for _ in range(50):
        if feedback.component.broadcaster.watchers == 0:
            break
        await asyncio.sleep(0.1)
    assert feedback.component.broadcaster.watchers == 0


async def test_healthz_and_readyz(http, gateway_url):
    async with http.get(f"{gateway_url}/healthz") as resp:
        assert resp.status == 200
    async with http.get(f"{gateway_url}/readyz") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body == {
        "ready": True,
        "backends": {"analytics": "SERVING", "reco": "SERVING", "feedback": "SERVING"},
    }


async def test_readyz_is_503_when_a_backend_is_down(http, gateway_settings):
    server = await start_gateway(replace(gateway_settings, reco_target="127.0.0.1:1"))
    try:
        async with http.get(server.make_url("/readyz")) as resp:
            assert resp.status == 503
            body = await resp.json()
        assert body["ready"] is False
        assert body["backends"]["reco"] == "UNAVAILABLE"
    finally:
        await server.close()


async def test_static_page_is_served_at_root(http, gateway_url):
    async with http.get(f"{gateway_url}/") as resp:
        assert resp.status == 200
        assert "dashboard" in (await resp.text()).lower()


async def test_untidy_request_ids_are_replaced_and_bad_credentials_refused(http, gateway_url):
    headers = {"X-Request-Id": "has spaces and\ttabs"}
    async with http.post(
        f"{gateway_url}/api/analytics/events", data=seed_event(fresh("evt")), headers=headers
    ) as resp:
        assert resp.status == 200
        assert resp.headers["X-Request-Id"] != headers["X-Request-Id"]
    headers = {"Authorization": "Bearer caf\u00e9".encode().decode("latin-1")}
    async with http.post(
        f"{gateway_url}/api/analytics/events", data=seed_event(fresh("evt")), headers=headers
    ) as resp:
        assert resp.status == 400
        assert_error_shape(await resp.json(), 400)
