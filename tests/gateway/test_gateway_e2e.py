"""End to end over real HTTP and real gRPC on loopback (see conftest.py for the servers)."""

from __future__ import annotations

import asyncio
import json

import pytest
from gateway_doubles import (
    CSV,
    INVALID_EVENT_ID,
    MAX_REQUEST_BYTES,
    SLOW_REALTIME_MINUTES,
    THROTTLED_EVENT_ID,
    contract_binding_count,
    gateway_settings,
    start_gateway,
)
from google.protobuf import json_format
from openapi_spec_validator import validate
from storyverse.analytics.v1 import analytics_service_pb2 as analytics
from storyverse.analytics.v1 import events_pb2

from gateway.openapi import openapi_path
from gateway.routes import build_router

SEED_EVENT = (
    '{"event_id": "evt-123456", "user_id": "user-789012", "timestamp": "2025-03-20T14:30:00Z", '
    '"event_type": "story_creation", "properties": {"story_id": "story-123456", "universes": '
    '["dragon-ball", "toy-story"], "characters": ["goku", "woody", "buzz"], "theme": "friendship", '
    '"moral_lesson": "teamwork", "creation_time": 450, "device_type": "tablet", "platform": "ios"}, '
    '"session_id": "session-345678"}'
)


def assert_error_shape(body: dict, code: int) -> None:
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    for detail in body["details"]:
        assert set(detail) == {"field", "description"}


async def test_seed_event_reaches_the_service_as_the_right_message(http, gateway_url, analytics_double):
    headers = {
        "Content-Type": "application/json",
        "Authorization": "Bearer t0k3n",
        "X-Api-Key": "k-1",
        "X-Request-Id": "req-42",
    }
    async with http.post(f"{gateway_url}/api/analytics/events", data=SEED_EVENT, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        assert resp.headers["X-Request-Id"] == "req-42"
        body = await resp.json()
    # Default values are emitted: every field of the reply is present.
    assert body == {"result": {"accepted": 1, "duplicates": 0, "rejected": 0, "rejections": []}}

    expected = analytics.RecordEventRequest(event=json_format.Parse(SEED_EVENT, events_pb2.Event()))
    assert analytics_double.received[-1] == expected
    assert analytics_double.received[-1].event.properties.characters == ["goku", "woody", "buzz"]
    metadata = analytics_double.metadata[-1]
    assert metadata["authorization"] == "Bearer t0k3n"
    assert metadata["x-api-key"] == "k-1"
    assert metadata["x-request-id"] == "req-42"


async def test_a_request_id_is_made_up_when_the_client_sends_none(http, gateway_url, analytics_double):
    async with http.post(f"{gateway_url}/api/analytics/events", data=SEED_EVENT) as resp:
        assert resp.status == 200
        assert resp.headers["X-Request-Id"] == analytics_double.metadata[-1]["x-request-id"] != ""


async def test_service_field_violations_become_400_with_details(http, gateway_url):
    event = json.loads(SEED_EVENT) | {"event_id": INVALID_EVENT_ID}
    async with http.post(f"{gateway_url}/api/analytics/events", json=event) as resp:
        assert resp.status == 400
        body = await resp.json()
    assert_error_shape(body, 400)
    assert body["details"] == [
        {"field": "event.properties.device_type", "description": "must be one of tablet, phone, ..."}
    ]


async def test_resource_exhausted_is_429_with_retry_after(http, gateway_url):
    event = json.loads(SEED_EVENT) | {"event_id": THROTTLED_EVENT_ID}
    async with http.post(f"{gateway_url}/api/analytics/events", json=event) as resp:
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "7"  # 6.5 s rounded up
        assert_error_shape(await resp.json(), 429)


async def test_unimplemented_is_501(http, gateway_url):
    url = f"{gateway_url}/api/recommendations/universes?user_id=user-1&age_group=6-8"
    async with http.get(url) as resp:
        assert resp.status == 501
        assert_error_shape(await resp.json(), 501)


async def test_deadline_exceeded_is_504(http, grpc_target):
    server = await start_gateway(gateway_settings(grpc_target, gateway_deadline_seconds=0.2))
    try:
        url = server.make_url(f"/api/analytics/dashboard?realtime_minutes={SLOW_REALTIME_MINUTES}")
        async with http.get(url) as resp:
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
    async with http.get(f"{gateway_url}/api/feedback/story-1?page_size=5") as resp:
        assert resp.status == 501  # ListStoryFeedback, not implemented by the base servicer


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


async def test_repeated_query_parameters_and_path_variables(http, gateway_url, analytics_double):
    url = f"{gateway_url}/api/analytics/reports/funnel?steps=story_started&steps=story_creation&periods=4"
    async with http.get(url) as resp:
        assert resp.status == 200, await resp.text()
        body = await resp.json()
    assert body["report_type"] == "funnel"
    assert body["tables"][0]["columns"] == ["story_started", "story_creation"]
    assert analytics_double.received[-1].periods == 4


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


async def test_body_over_the_limit_is_413_json(http, gateway_url):
    event = json.loads(SEED_EVENT)
    event["properties"]["theme"] = "x" * (MAX_REQUEST_BYTES + 1)
    async with http.post(f"{gateway_url}/api/analytics/events", json=event) as resp:
        assert resp.status == 413
        assert_error_shape(await resp.json(), 413)


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
    async with http.get(f"{gateway_url}/api/analytics/reports/content/csv") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/csv"
        assert await resp.read() == CSV


async def test_watch_alerts_streams_ndjson(http, gateway_url):
    async with http.get(f"{gateway_url}/api/alerts:watch?kinds=safety&kinds=technical") as resp:
        assert resp.status == 200
        assert resp.content_type == "application/x-ndjson"
        lines = [json.loads(line) for line in (await resp.text()).splitlines()]
    assert [line["result"]["alert"]["kind"] for line in lines] == ["safety", "technical"]
    assert lines[0]["result"]["alert"]["alert_id"] == "alert-0"


async def test_watch_alerts_flushes_each_message_and_stops_when_the_client_leaves(
    http, gateway_url, feedback_double
):
    resp = await http.get(f"{gateway_url}/api/alerts:watch?kinds=rating_drop")
    first = await asyncio.wait_for(resp.content.readline(), timeout=2)
    assert json.loads(first)["result"]["alert"]["kind"] == "rating_drop"
    resp.close()  # drop the connection while the stream is open
    await asyncio.wait_for(feedback_double.cancelled.wait(), timeout=3)


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


async def test_readyz_is_503_when_a_backend_is_down(http, grpc_target):
    server = await start_gateway(gateway_settings(grpc_target, reco_target="127.0.0.1:1"))
    try:
        async with http.get(server.make_url("/readyz")) as resp:
            assert resp.status == 503
            body = await resp.json()
        assert body["ready"] is False
        assert body["backends"]["reco"] == "UNAVAILABLE"
    finally:
        await server.close()


async def test_static_placeholder_is_served_at_root(http, gateway_url):
    async with http.get(f"{gateway_url}/") as resp:
        assert resp.status == 200
        assert "dashboard" in (await resp.text()).lower()


async def test_untidy_request_ids_are_replaced_and_bad_credentials_refused(
    http, gateway_url, analytics_double
):
    headers = {"X-Request-Id": "has spaces and\ttabs"}
    async with http.post(f"{gateway_url}/api/analytics/events", data=SEED_EVENT, headers=headers) as resp:
        assert resp.status == 200
        assert resp.headers["X-Request-Id"] != headers["X-Request-Id"]
    headers = {"Authorization": "Bearer caf\u00e9".encode().decode("latin-1")}
    async with http.post(f"{gateway_url}/api/analytics/events", data=SEED_EVENT, headers=headers) as resp:
        assert resp.status == 400
        assert_error_shape(await resp.json(), 400)
