"""Request building and reply rendering, from the real request/response descriptors."""

from __future__ import annotations

import pytest
from google.api import httpbody_pb2
from storyverse.analytics.v1 import analytics_service_pb2 as analytics
from storyverse.feedback.v1 import feedback_service_pb2 as feedback
from storyverse.recommendation.v1 import recommendation_service_pb2 as reco

from gateway.errors import GatewayError
from gateway.routes import Route, build_router, parse_template
from gateway.transcode import build_request, convert_scalar, explain_parse_error, render_response


@pytest.fixture(scope="module")
def routes():
    return {r.method.name: r for r in build_router().routes}


def bad_field(excinfo) -> str:
    assert excinfo.value.status == 400
    return excinfo.value.details[0].field


def test_query_parameters_are_converted_per_field_type(routes):
    query = {"steps": ["a", "b[x=1]"], "periods": ["8"], "granularity": ["day"]}
    request = build_request(routes["GetReport"], {"report_type": "funnel"}, query, b"")
    assert request == analytics.GetReportRequest(
        report_type="funnel", steps=["a", "b[x=1]"], periods=8, granularity="day"
    )


def test_camel_case_query_names_are_accepted(routes):
    request = build_request(routes["GetDashboard"], {}, {"realtimeMinutes": ["5"]}, b"")
    assert request.realtime_minutes == 5


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"colour": ["red"]}, "colour"),
        ({"realtime_minutes": ["ten"]}, "realtime_minutes"),
        ({"realtime_minutes": ["99999999999"]}, "realtime_minutes"),  # out of int32 range
        ({"realtime_minutes": ["1", "2"]}, "realtime_minutes"),  # singular field given twice
        ({"platform.name": ["x"]}, "platform.name"),  # dotted path through a scalar
    ],
)
def test_bad_query_parameters_are_400_naming_them(routes, query, field):
    with pytest.raises(GatewayError) as excinfo:
        build_request(routes["GetDashboard"], {}, query, b"")
    assert bad_field(excinfo) == field


def test_query_cannot_override_the_path_or_a_whole_body(routes):
    with pytest.raises(GatewayError) as excinfo:
        build_request(routes["GetReport"], {"report_type": "funnel"}, {"report_type": ["x"]}, b"")
    assert bad_field(excinfo) == "report_type"
    with pytest.raises(GatewayError) as excinfo:
        build_request(
            routes["DecideModeration"], {"story_id": "s"}, {"note": ["x"]}, b'{"decision": "clear"}'
        )
    assert bad_field(excinfo) == "note"


def test_body_star_takes_the_whole_message_and_the_path(routes):
    request = build_request(routes["DecideModeration"], {"story_id": "s-1"}, {}, b'{"decision": "clear"}')
    assert request == feedback.DecideModerationRequest(story_id="s-1", decision="clear")
    with pytest.raises(GatewayError) as excinfo:  # the path variable again in the body is ambiguous
        build_request(routes["DecideModeration"], {"story_id": "s-1"}, {}, b'{"story_id": "s-2"}')
    assert bad_field(excinfo) == "story_id"


def test_body_field_takes_that_field(routes):
    request = build_request(routes["SubmitFeedback"], {}, {}, b'{"feedback_id": "f-1", "rating": 4}')
    assert request == feedback.SubmitFeedbackRequest(
        feedback=feedback.FeedbackEntry(feedback_id="f-1", rating=4)
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"rating": "four"}', "feedback.rating"),
        (b'{"categories": "plot"}', "feedback.categories"),
        (b'{"aspects": [{"tone": "x"}]}', "feedback.aspects.tone"),
        (b'"just a string"', "feedback"),
    ],
)
def test_bad_bodies_name_the_field(routes, body, field):
    with pytest.raises(GatewayError) as excinfo:
        build_request(routes["SubmitFeedback"], {}, {}, body)
    assert bad_field(excinfo) == field


def test_missing_or_unexpected_bodies(routes):
    with pytest.raises(GatewayError):
        build_request(routes["SubmitFeedback"], {}, {}, b"  ")
    with pytest.raises(GatewayError):
        build_request(routes["GetDashboard"], {}, {}, b'{"platform": "ios"}')


def test_convert_scalar_bool_and_float_from_real_fields():
    created = feedback.SubmitFeedbackResponse.DESCRIPTOR.fields_by_name["created"]
    assert convert_scalar(created, "true") is True
    assert convert_scalar(created, "0") is False
    with pytest.raises(ValueError):
        convert_scalar(created, "yes")
    score = feedback.FeedbackEntry.DESCRIPTOR.fields_by_name["sentiment_score"]
    assert convert_scalar(score, "0.25") == 0.25
    with pytest.raises(ValueError):
        convert_scalar(score, "high")


def test_explain_parse_error_finds_the_deepest_field():
    assert explain_parse_error(
        "Failed to parse properties field: Couldn't parse float: abc at Event.properties.creation_time."
    ) == ("properties.creation_time", "Couldn't parse float: abc")
    field, description = explain_parse_error(
        'Failed to parse a field: Message type "X" has no field named "zz" at "E.a".\n Available Fields: ...'
    )
    assert (field, description) == ("a.zz", "unknown field")


def test_replies_use_proto_names_and_emit_defaults(routes):
    body, content_type = render_response(
        routes["SubmitFeedback"], feedback.SubmitFeedbackResponse(feedback_id="f")
    )
    assert content_type == "application/json"
    assert body == b'{"feedback_id":"f","created":false,"redacted":false}'


def test_response_body_http_body_is_raw(routes):
    reply = analytics.ExportReportResponse(body=httpbody_pb2.HttpBody(content_type="text/csv", data=b"a,b\n"))
    assert render_response(routes["ExportReport"], reply) == (b"a,b\n", "text/csv")


def test_nested_path_variables_and_dotted_query_parameters(routes):
    recommend = routes["Recommend"]
    route = Route("GET", parse_template("/x/{context.age_group}"), recommend.method, "", "", "reco_target")
    query = {"context.selected_universes": ["dragon-ball", "toy-story"], "limit": ["3"]}
    request = build_request(route, {"context.age_group": "6-8"}, query, b"")
    assert request == reco.RecommendRequest(
        context=reco.RecommendationContext(age_group="6-8", selected_universes=["dragon-ball", "toy-story"]),
        limit=3,
    )
    with pytest.raises(GatewayError) as excinfo:  # a message cannot be a query parameter
        build_request(route, {"context.age_group": "6-8"}, {"context": ["x"]}, b"")
    assert bad_field(excinfo) == "context"


def test_json_null_is_refused_naming_the_field():
    from storyverse.analytics.v1 import events_pb2

    from gateway.transcode import _first_null

    descriptor = events_pb2.Event.DESCRIPTOR
    assert (
        _first_null({"event_id": "e1", "properties": {"universes": None}}, descriptor)
        == "properties.universes"
    )
    assert _first_null({"session_id": None}, descriptor) == "session_id"
    assert _first_null({"properties": {"universes": ["a", None]}}, descriptor) == "properties.universes"
    # Struct values may be null: that is a value there, not an absence.
    assert _first_null({"properties": {"extras": {"language": None}}}, descriptor) is None
    assert _first_null({"event_id": "e1"}, descriptor) is None
