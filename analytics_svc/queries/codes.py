"""Small integer codes for event types and for the three filter dimensions, used by the
compact per-user rollups (user_day_sequences, user_activity, daily_user_activity.type_mask).

The lists are APPEND-ONLY: a code is stored in rollup rows, so changing the position of
a value would change the meaning of rows already written. Values outside the lists are
still stored (event type code 0, dimension code 7), so the stream keeps every event;
readers fall back to raw events when a request names such a value.
"""

from __future__ import annotations

# Code = position + 1 (0 = an event type not in this list). At most 31 (type masks are int4).
EVENT_TYPES = (
    "session_start",
    "session_end",
    "page_view",
    "click",
    "feature_used",
    "story_started",
    "story_creation",
    "story_view",
    "story_completed",
    "story_shared",
    "recommendation_shown",
    "recommendation_clicked",
    "experiment_exposure",
    "feedback_submitted",
    "app_error",
)
# Dimension code = position + 1; 0 = absent (NULL or ''), 7 = a value not in the list.
AGE_GROUPS = ("3-5", "6-8", "9-12", "13-17")
PLATFORMS = ("ios", "android", "web", "windows", "macos", "other")
DEVICE_TYPES = ("tablet", "phone", "desktop", "tv", "other")
DIMENSIONS = {"age_group": AGE_GROUPS, "platform": PLATFORMS, "device_type": DEVICE_TYPES}
# Bit position of each dimension in the 9-bit context code: age << 6 | platform << 3 | device.
SHIFTS = {"age_group": 6, "platform": 3, "device_type": 0}
UNKNOWN = 7

assert len(EVENT_TYPES) <= 31 and all(len(v) < UNKNOWN for v in DIMENSIONS.values())


def _array(values: tuple[str, ...]) -> str:
    # Fixed identifiers only (no user text), so they can be inlined in SQL.
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]::text[]"


def event_code(column: str = "event_type") -> str:
    """SQL: the event type's code (0 when unknown)."""
    return f"coalesce(array_position({_array(EVENT_TYPES)}, {column}), 0)"


def type_bit(column: str = "event_type") -> str:
    """SQL: 1 << code, to OR into a per-user-day mask of the event types seen."""
    return f"(1 << {event_code(column)})"


def _dim_code(column: str, values: tuple[str, ...]) -> str:
    return (
        f"coalesce(array_position({_array(values)}, {column}), "
        f"CASE WHEN coalesce({column}, '') = '' THEN 0 ELSE {UNKNOWN} END)"
    )


def context_code() -> str:
    """SQL: the event's (age_group, platform, device_type) packed in 9 bits."""
    return " | ".join(f"({_dim_code(name, values)} << {SHIFTS[name]})" for name, values in DIMENSIONS.items())


def code_of(event_type: str) -> int | None:
    return EVENT_TYPES.index(event_type) + 1 if event_type in EVENT_TYPES else None


def dimension_code(name: str, value: str) -> int | None:
    """The code a filter value has in the context code (None: not representable)."""
    values = DIMENSIONS[name]
    if not value:
        return 0
    return values.index(value) + 1 if value in values else None


def dimension_value(name: str, code: int) -> str:
    return "" if code == 0 else DIMENSIONS[name][code - 1]
