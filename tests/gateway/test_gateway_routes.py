"""Path templates, matching and precedence, on synthetic templates and on the real contract."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from gateway_helpers import contract_binding_count
from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2, descriptor_pool
from hypothesis import given
from hypothesis import strategies as st

from gateway.routes import (
    DEEP_WILDCARD,
    LITERAL,
    WILDCARD,
    MethodNotAllowed,
    Route,
    RouteNotFound,
    Router,
    TemplateError,
    build_router,
    parse_template,
)


@pytest.fixture(scope="module")
def router():
    return build_router()


def test_parse_literals_variables_and_verb():
    t = parse_template("/api/analytics/events:batch")
    assert [s.literal for s in t.segments] == ["api", "analytics", "events"]
    assert t.verb == "batch"
    t = parse_template("/api/moderation/{story_id}/decision")
    assert [s.kind for s in t.segments] == [LITERAL, LITERAL, WILDCARD, LITERAL]
    assert t.variables == ("story_id",)
    assert t.verb is None


def test_parse_nested_field_paths_and_wildcards():
    t = parse_template("/v1/{book.shelf.name=shelves/*}/books/**")
    assert t.variables == ("book.shelf.name",)
    assert [s.kind for s in t.segments] == [LITERAL, LITERAL, WILDCARD, LITERAL, DEEP_WILDCARD]
    assert t.match("/v1/shelves/s1/books/a/b") == {"book.shelf.name": "shelves/s1"}
    assert t.match("/v1/racks/s1/books/a") is None


@pytest.mark.parametrize(
    "bad",
    [
        "api/x",
        "/api//x",
        "/api/{x",
        "/api/x}",
        "/api/{}",
        "/api/{a-b}",
        "/a/**/b",
        "/a/{x}/{x}",
        "/a:",
        "/a/b*",
    ],
)
def test_bad_templates_are_rejected(bad):
    with pytest.raises(TemplateError):
        parse_template(bad)


def test_match_decodes_variables_and_requires_the_verb():
    t = parse_template("/api/feedback/{story_id}")
    assert t.match("/api/feedback/story%2D1%3Ax") == {"story_id": "story-1:x"}
    assert t.match("/api/feedback/") is None
    assert t.match("/api/feedback/a/b") is None
    verb = parse_template("/api/alerts:watch")
    assert verb.match("/api/alerts:watch") == {}
    assert verb.match("/api/alerts") is None
    # Without a verb in the template, a colon is part of the variable.
    assert t.match("/api/feedback/a:b") == {"story_id": "a:b"}


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1))
def test_any_story_id_round_trips_through_the_path(story_id):
    t = parse_template("/api/feedback/{story_id}")
    assert t.match("/api/feedback/" + quote(story_id, safe="")) == {"story_id": story_id}


def test_router_holds_every_binding_of_the_contract(router):
    bound = {(r.http_method, r.template.source, r.method.name) for r in router.routes}
    assert ("POST", "/api/analytics/events", "RecordEvent") in bound
    assert ("POST", "/api/analytics/events:batch", "RecordEvents") in bound
    assert ("GET", "/api/alerts:watch", "WatchAlerts") in bound
    assert ("GET", "/api/recommendations/{kind}", "ListRecommendations") in bound
    assert ("DELETE", "/api/admin/users/{user_id}", "DeleteUserData") in bound
    assert len(bound) == contract_binding_count()
    services = {r.method.containing_service.full_name for r in router.routes}
    assert services == {
        "storyverse.admin.v1.AdminService",
        "storyverse.analytics.v1.AnalyticsService",
        "storyverse.analytics.v1.ExperimentService",
        "storyverse.recommendation.v1.RecommendationService",
        "storyverse.feedback.v1.FeedbackService",
    }


@pytest.mark.parametrize(
    ("path", "method_name"),
    [
        ("/api/feedback/summary", "GetFeedbackSummary"),
        ("/api/feedback/search", "SearchFeedback"),
        ("/api/feedback/alerts", "ListAlerts"),
        ("/api/feedback/story-123456", "ListStoryFeedback"),
        ("/api/analytics/reports/funnel", "GetReport"),
        ("/api/analytics/reports/funnel/csv", "ExportReport"),
        ("/api/alerts:watch", "WatchAlerts"),
        ("/api/experiments/assignments", "GetAssignments"),
        ("/api/experiments/new-onboarding", "GetExperiment"),
    ],
)
def test_literal_segments_win_over_variables(router, path, method_name):
    route, _ = router.resolve("GET", path)
    assert route.method.name == method_name


def test_more_literal_segments_come_first():
    a, b = parse_template("/x/{a}/{b}"), parse_template("/x/{a}/y")
    assert sorted([a, b], key=lambda t: t.precedence()) == [b, a]
    router = Router()
    method = build_router().routes[0].method
    router.add(Route("GET", a, method, "", "", "analytics_target"))
    router.add(Route("GET", b, method, "", "", "analytics_target"))
    assert router.resolve("GET", "/x/1/y")[0].template is b
    assert router.resolve("GET", "/x/1/z")[1] == {"a": "1", "b": "z"}


def test_unknown_path_and_wrong_method(router):
    with pytest.raises(RouteNotFound):
        router.resolve("GET", "/api/unknown")
    with pytest.raises(MethodNotAllowed) as excinfo:
        router.resolve("PUT", "/api/feedback")
    assert excinfo.value.allowed == ["POST"]
    with pytest.raises(MethodNotAllowed) as excinfo:
        router.resolve("POST", "/api/feedback/story-1")
    assert excinfo.value.allowed == ["GET"]


def test_additional_bindings_become_routes():
    rule = http_pb2.HttpRule(get="/api/test/reports/{report_type}")
    rule.additional_bindings.add(post="/api/test/reports", body="*")
    rule.additional_bindings.add(custom=http_pb2.CustomHttpPattern(kind="QUERY", path="/api/test/query"))
    file = descriptor_pb2.FileDescriptorProto(
        name="storyverse/analytics/v1/test_gateway_bindings.proto",
        package="storyverse.analytics.v1",
        syntax="proto3",
        dependency=["storyverse/analytics/v1/analytics_service.proto", "google/api/annotations.proto"],
    )
    method = file.service.add(name="GatewayBindingsTestService").method.add(
        name="Report",
        input_type=".storyverse.analytics.v1.GetReportRequest",
        output_type=".storyverse.analytics.v1.GetReportResponse",
    )
    method.options.Extensions[annotations_pb2.http].CopyFrom(rule)
    pool = descriptor_pool.Default()
    name = "storyverse.analytics.v1.GatewayBindingsTestService"
    try:
        pool.FindServiceByName(name)
    except KeyError:  # first run in this process: register the file
        pool.AddSerializedFile(file.SerializeToString())
    service = pool.FindServiceByName(name)
    router = build_router([service])
    bound = sorted((r.http_method, r.template.source, r.body) for r in router.routes)
    assert bound == [
        ("GET", "/api/test/reports/{report_type}", ""),
        ("POST", "/api/test/reports", "*"),
        ("QUERY", "/api/test/query", ""),
    ]
    assert {r.settings_target for r in router.routes} == {"analytics_target"}
