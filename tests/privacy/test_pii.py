"""No direct identifiers in analytics: extras are allow-listed and hold no contact details,
and every other free-form string of an event is held to a strict pattern."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from storyverse.analytics.v1 import events_pb2

from analytics_svc.ingestion.prepare import check, prepare
from common.pii import contact_detail_in
from common.rules import field_rules
from tests.events import event


@pytest.mark.parametrize(
    "key, value",
    [
        ("name", "Ana Lopez"),
        ("child_name", "Ana"),
        ("first_name", "Ana"),
        ("email", "parent@example.com"),
        ("parent_email", "parent@example.com"),
        ("address", "12 Rose Street, Springfield"),
        ("home_address", "12 Rose Street"),
        ("phone", "+1 555 123 4567"),
        ("birthday", "2018-04-02"),
        ("school", "Springfield Elementary"),
        ("ip", "10.1.2.3"),
    ],
)
def test_identifying_extras_are_refused(key, value):
    e = event()
    e.properties.extras.update({key: value})
    field, reason = check(e, datetime.now(UTC))
    assert field == f"properties.extras.{key}" and "not an allowed property" in reason


@pytest.mark.parametrize(
    "value",
    [
        "mum is ana@example.com",
        "call +44 20 7946 0958",
        "555-123-4567",
        "see https://example.com/ana",
        "www.ana.me",
    ],
)
def test_allowed_extras_cannot_carry_contact_details(value):
    e = event()
    e.properties.extras.update({"source": value})
    field, reason = check(e, datetime.now(UTC))
    assert field == "properties.extras.source" and "contact details" in reason


@pytest.mark.parametrize("value", ["wifi", "home_screen", "17.2.1", "dragon button", "ios 17"])
def test_ordinary_extras_pass(value):
    e = event()
    e.properties.extras.update({"source": value})
    assert check(e, datetime.now(UTC)) is None
    assert contact_detail_in(value) is None


def _string_fields(descriptor, prefix=""):
    for f in descriptor.fields:
        if f.message_type is not None and f.message_type.full_name.startswith("storyverse."):
            yield from _string_fields(f.message_type, f"{prefix}{f.name}.")
        elif f.type == f.TYPE_STRING:
            yield prefix + f.name, f


def test_every_other_string_of_an_event_is_pattern_bound_without_spaces_or_at_signs():
    """Free text could carry a name or an email; every string field outside extras is an id,
    a timestamp, an enum or a slug whose pattern admits neither '@' nor a space."""
    for path, fd in _string_fields(events_pb2.Event.DESCRIPTOR):
        text = field_rules(fd).text
        assert text is not None, f"{path} has no rules"
        closed = text.allowed or text.rfc3339 or text.date
        pattern = text.pattern
        assert closed or pattern, f"{path} is free text"
        if pattern:
            assert "@" not in pattern and " " not in pattern and r"\s" not in pattern, path


def test_a_refused_extra_is_not_kept_in_the_failed_events_payload():
    e = event()
    e.properties.extras.update({"parent_email": "parent@example.com", "source": "home"})
    prepared = prepare([e], datetime.now(UTC))
    [rejection] = prepared.rejections
    assert rejection.field == "properties.extras.parent_email"
    assert "parent@example.com" not in rejection.payload
    assert json.loads(rejection.payload)["event_id"] == e.event_id
