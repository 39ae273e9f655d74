"""The contract's validation rules, checked without any server."""

from __future__ import annotations

from storyverse.analytics.v1 import analytics_service_pb2 as pb
from storyverse.recommendation.v1 import recommendation_service_pb2 as reco

from common.validation import parse_rfc3339, validate
from tests.events import event


def fields(message) -> list[str]:
    return [v.field for v in validate(message)]


def test_a_valid_event_has_no_violations():
    assert fields(event()) == []


def test_each_rule_kind_names_the_field():
    bad = event(event_id="", session_id="bad session", event_type="unknown")
    bad.properties.creation_time = -1
    bad.properties.universes.append("Not A Slug")
    bad.properties.device_type = "fridge"
    assert sorted(fields(bad)) == sorted(
        [
            "event_id",
            "session_id",
            "event_type",
            "properties.creation_time",
            "properties.universes",
            "properties.device_type",
        ]
    )


def test_nested_required_and_item_rules():
    request = reco.RecommendRequest(user_id="u1", recommendation_types=["universe", "spaceship"], limit=99)
    assert sorted(fields(request)) == ["context", "limit", "recommendation_types"]
    request.context.selected_universes.extend(["ok"] * 11)
    assert "context.age_group" in fields(request)
    assert "context.selected_universes" in fields(request)


def test_per_item_fields_are_left_to_the_service():
    request = pb.RecordEventsRequest(events=[event(user_id="")])
    assert fields(request) == []
    assert fields(pb.RecordEventsRequest()) == ["events"]


def test_dates_and_timestamps():
    assert fields(pb.GetDashboardRequest(start_date="2025-02-30")) == ["start_date"]
    assert fields(pb.GetDashboardRequest(start_date="2025-02-28")) == []
    assert parse_rfc3339("2025-03-20T14:30:00Z") is not None
    assert parse_rfc3339("2025-03-20T14:30:00.123456789+02:00") is not None
    assert parse_rfc3339("2025-03-20 14:30") is None
    assert parse_rfc3339("2025-03-20T14:30:00") is None  # no zone


def test_report_request_mirrors_export_request():
    get_fields = [(f.name, f.number, f.type) for f in pb.GetReportRequest.DESCRIPTOR.fields]
    export_fields = [(f.name, f.number, f.type) for f in pb.ExportReportRequest.DESCRIPTOR.fields]
    assert get_fields == export_fields


def test_fractional_seconds_keep_their_zone():
    # Regression: the digits of the zone were taken for the fraction, giving a naive datetime.
    parsed = parse_rfc3339("2025-03-20T14:30:00.5-05:30")
    assert parsed is not None and parsed.utcoffset() is not None
    assert parsed.isoformat() == "2025-03-20T14:30:00.500000-05:30"
    assert parse_rfc3339("2025-03-20T14:30:00.123Z").isoformat() == "2025-03-20T14:30:00.123000+00:00"
