"""Status mapping, retry hints, and the generated OpenAPI document's use of our rules."""

from __future__ import annotations

import re

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from openapi_spec_validator import validate

from common.errors import STATUS_DETAILS_KEY
from gateway.errors import http_status, retry_after_seconds
from gateway.openapi import build_document
from gateway.routes import build_router


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, 400),
        (grpc.StatusCode.FAILED_PRECONDITION, 400),
        (grpc.StatusCode.UNAUTHENTICATED, 401),
        (grpc.StatusCode.PERMISSION_DENIED, 403),
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.ALREADY_EXISTS, 409),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
        (grpc.StatusCode.UNIMPLEMENTED, 501),
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
        (grpc.StatusCode.INTERNAL, 500),
        (grpc.StatusCode.UNKNOWN, 500),
        (grpc.StatusCode.DATA_LOSS, 500),
    ],
)
def test_status_mapping(code, status):
    assert http_status(code) == status


def test_retry_hint_from_trailer_or_retry_info():
    assert retry_after_seconds((("retry-after", "2.1"),)) == 3
    assert retry_after_seconds((("retry-after", "soon"),)) is None
    info = error_details_pb2.RetryInfo()
    info.retry_delay.seconds = 4
    detail = any_pb2.Any()
    detail.Pack(info)
    status = status_pb2.Status(code=8, details=[detail]).SerializeToString()
    assert retry_after_seconds(((STATUS_DETAILS_KEY, status),)) == 4


@pytest.fixture(scope="module")
def document():
    doc = build_document(build_router())
    validate(doc)
    return doc


def schema(document, name):
    return document["components"]["schemas"][name]


def test_rules_become_schema_keywords(document):
    event = schema(document, "storyverse.analytics.v1.Event")
    assert set(event["required"]) == {"event_id", "user_id", "timestamp", "event_type"}
    assert event["properties"]["event_id"]["pattern"] == "^(?:[A-Za-z0-9][A-Za-z0-9._:-]{0,127})$"
    assert "story_creation" in event["properties"]["event_type"]["enum"]
    assert event["properties"]["timestamp"]["format"] == "date-time"
    assert event["additionalProperties"] is False
    props = schema(document, "storyverse.analytics.v1.EventProperties")["properties"]
    assert props["universes"]["maxItems"] == 10
    assert props["universes"]["items"]["pattern"] == "^(?:[a-z0-9][a-z0-9-]{0,63})$"
    assert (props["creation_time"]["minimum"], props["creation_time"]["maximum"]) == (0, 86400)
    assert props["device_type"]["enum"][0] == ""  # not required: empty means unset
    entry = schema(document, "storyverse.feedback.v1.FeedbackEntry")["properties"]
    assert entry["comment"]["maxLength"] == 2000
    # A length rule alone refuses NUL too (found by schemathesis): the schema says so.
    comment_pattern = entry["comment"]["pattern"]
    assert re.search(comment_pattern, "ok") and not re.search(comment_pattern, "a\x00b")
    assert entry["categories"]["items"]["enum"][0] == "plot"


def test_parameters_and_bodies(document):
    get_report = document["paths"]["/api/analytics/reports/{report_type}"]["get"]
    params = {p["name"]: p for p in get_report["parameters"]}
    assert params["report_type"]["in"] == "path" and params["report_type"]["required"] is True
    assert params["steps"]["schema"]["type"] == "array" and params["steps"]["schema"]["maxItems"] == 20
    assert params["periods"]["schema"] == {"type": "integer", "format": "int32", "minimum": 0, "maximum": 104}
    record = document["paths"]["/api/analytics/events"]["post"]
    body_schema = record["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema == {"$ref": "#/components/schemas/storyverse.analytics.v1.Event"}
    assert "parameters" not in record
    watch = document["paths"]["/api/alerts:watch"]["get"]["responses"]["200"]["content"]
    assert "application/x-ndjson" in watch
    csv = document["paths"]["/api/analytics/reports/{report_type}/csv"]["get"]["responses"]["200"]["content"]
    assert csv["*/*"]["schema"]["format"] == "binary"
    assert document["components"]["schemas"]["Error"]["required"] == ["code", "message", "details"]


def test_literal_routes_are_excluded_from_the_variable_they_shadow(document):
    story = document["paths"]["/api/feedback/{story_id}"]["get"]["parameters"][0]
    assert story["schema"]["not"] == {"enum": ["alerts", "search", "summary"]}
    decision = document["paths"]["/api/moderation/{story_id}/decision"]["post"]["parameters"][0]
    assert "not" not in decision["schema"]


def test_integers_without_rules_carry_their_type_bounds(document):
    alert_params = {p["name"]: p for p in document["paths"]["/api/feedback/alerts"]["get"]["parameters"]}
    assert alert_params["page_size"]["schema"]["maximum"] == 100  # from the rule
    ingest = schema(document, "storyverse.analytics.v1.IngestResult")["properties"]["accepted"]
    assert (ingest["minimum"], ingest["maximum"]) == (-(2**31), 2**31 - 1)
