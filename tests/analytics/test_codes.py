"""The rollups' codes (analytics_svc/queries/codes.py) against the contract they encode.

The code lists are append-only (codes are stored in rollup rows); this keeps them in step
with the values the contract accepts, so a new value gets a code of its own instead of the
"unknown" one (whose requests fall back to raw events).
"""

from __future__ import annotations

import pytest
from storyverse.analytics.v1 import events_pb2

from analytics_svc.queries import codes
from common.rules import message_rules


def allowed(message, field: str) -> set[str]:
    return set(message_rules(message.DESCRIPTOR).field(field).text.allowed)


def test_every_event_type_of_the_contract_has_a_code():
    missing = allowed(events_pb2.Event, "event_type") - set(codes.EVENT_TYPES)
    assert not missing, f"append these to codes.EVENT_TYPES: {sorted(missing)}"


@pytest.mark.parametrize("dimension", sorted(codes.DIMENSIONS))
def test_every_dimension_value_of_the_contract_has_a_code(dimension):
    missing = allowed(events_pb2.EventProperties, dimension) - set(codes.DIMENSIONS[dimension])
    assert not missing, f"append these to codes.DIMENSIONS[{dimension!r}]: {sorted(missing)}"
