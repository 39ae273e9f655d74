"""SQL pieces every query of the ClickHouse store builds from: bind parameters, filters, step
and property expressions, breakdown columns (fixed expressions; user text only ever as a
bound parameter)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from analytics_svc.requests import STEP_PROPERTIES, Filters, Step

# The breakdown property of an event (fixed expressions, never user text).
BREAKDOWN = {
    "": "''",
    "age_group": "ifNull(age_group, '')",
    "platform": "ifNull(platform, '')",
    "device_type": "ifNull(device_type, '')",
    "event_type": "toString(event_type)",
    "feature": "ifNull(feature, '')",
    "theme": "ifNull(theme, '')",
    "universe": "toString(universes[1])",
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ARRAYS = {"universe": "universes", "character": "characters"}


class Params:
    """Collects bind values and hands out their server-side placeholders: {p3:String}."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any, kind: str) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"{{{name}:{kind}}}"

    def time(self, value: datetime) -> str:
        micros = (value - EPOCH) // timedelta(microseconds=1)
        if "utc" not in self.values:  # a placeholder, not 'UTC': see FunnelQuery._stored_streams
            self.values["utc"] = "UTC"
        return f"fromUnixTimestamp64Micro({self.add(micros, 'Int64')}, {{utc:String}})"


def dims_filter(params: Params, filters: Filters) -> str:
    parts = [
        f"{column} = {params.add(value, 'String')}"
        for column in ("age_group", "platform", "device_type")
        if (value := getattr(filters, column))
    ]
    return " AND ".join(parts) if parts else "1"


def step_predicate(step: Step, params: Params) -> str:
    parts = [f"event_type = {params.add(step.event_type, 'String')}"]
    for name, value in step.conditions:
        kind, placeholder = STEP_PROPERTIES[name], params.add(value, "String")
        if kind == "column":
            parts.append(f"ifNull({name} = {placeholder}, 0)")
        elif kind == "array":
            parts.append(f"has({_ARRAYS[name]}, {placeholder})")
        else:
            parts.append(f"ifNull({prop_text(params.add(name, 'String'))} = {placeholder}, 0)")
    return "(" + " AND ".join(parts) + ")"


def prop_text(name: str) -> str:
    """PostgreSQL's props->>name: a string's value, another value's JSON text (a number's
    digits), NULL when the key is missing or null. `name`: a literal or a placeholder."""
    doc = "ifNull(props, '{}')"
    kind = f"JSONType({doc}, {name})"
    return (
        f"multiIf({kind} = 'String', JSONExtractString({doc}, {name}),"
        f" {kind} = 'Null', NULL, JSONExtractRaw({doc}, {name}))"
    )


def micros(at: datetime) -> int:
    return (at - EPOCH) // timedelta(microseconds=1)
