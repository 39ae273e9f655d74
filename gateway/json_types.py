"""JSON values checked against the request message's field types, in words for a person.

protobuf's json_format refuses a value of the wrong JSON type with the text of whatever
Python error it met ("invalid literal for int() with base 10: 'five'", "expected string or
bytes-like object, got 'int'"). The body is checked here first, field by field, and the
first mismatch is described from the field's type and its contract rules ("must be a whole
number between 1 and 5, got \"five\""). What the JSON mapping accepts stays accepted:
integers and numbers written as strings ("4"), 4.0 for an integer.
"""

from __future__ import annotations

import json
import math
import re

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from common.rules import field_rules
from common.validation import RFC3339_PROBLEM

_F = FieldDescriptor
# The integer types' ranges (the query-string conversion in transcode.py uses them too).
INTEGER_RANGES = {
    _F.TYPE_INT32: (-(2**31), 2**31 - 1),
    _F.TYPE_SINT32: (-(2**31), 2**31 - 1),
    _F.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    _F.TYPE_UINT32: (0, 2**32 - 1),
    _F.TYPE_FIXED32: (0, 2**32 - 1),
    _F.TYPE_INT64: (-(2**63), 2**63 - 1),
    _F.TYPE_SINT64: (-(2**63), 2**63 - 1),
    _F.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    _F.TYPE_UINT64: (0, 2**64 - 1),
    _F.TYPE_FIXED64: (0, 2**64 - 1),
}
_NUMBER_WORDS = ("NaN", "Infinity", "-Infinity")
_INTEGER_TEXT = re.compile(r"-?[0-9]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*=*")


def first_type_error(data: dict, descriptor: Descriptor, prefix: str = "") -> tuple[str, str] | None:
    """(field path, description) of the first value json_format would refuse for its type, or None.

    Unknown fields, nulls and google.protobuf.* types are left to json_format and its callers."""
    for key, value in data.items():
        field = find_field(descriptor, key)
        if field is None or value is None:
            continue
        path = prefix + field.name
        message = field.message_type
        if message is not None and message.full_name.startswith("google.protobuf."):
            continue
        if message is not None and message.GetOptions().map_entry:
            if not isinstance(value, dict):
                return path, f"must be a JSON object, got {kind_of(value)}"
            value_field = message.fields_by_name["value"]
            for name, item in value.items():
                found = _check(value_field, item, f"{path}[{json.dumps(name)}]")
                if found:
                    return found
            continue
        if field.is_repeated:
            if not isinstance(value, list):
                return path, f"must be a JSON array, got {kind_of(value)}"
            for index, item in enumerate(value):
                found = _check(field, item, f"{path}[{index}]")
                if found:
                    return found
            continue
        found = _check(field, value, path)
        if found:
            return found
    return None


def _check(field: FieldDescriptor, value: object, path: str) -> tuple[str, str] | None:
    if value is None:
        return None
    if field.message_type is not None:
        if not isinstance(value, dict):
            return path, f"must be a JSON object, got {kind_of(value)}"
        return first_type_error(value, field.message_type, path + ".")
    problem = _scalar_problem(field, value)
    return (path, problem) if problem else None


def _scalar_problem(field: FieldDescriptor, value: object) -> str | None:
    kind = field.type
    if kind == _F.TYPE_STRING:
        return None if isinstance(value, str) else f"{_expected_text(field)}, got {shown(value)}"
    if kind == _F.TYPE_BOOL:
        return None if isinstance(value, bool) else f"must be true or false, got {shown(value)}"
    if kind in INTEGER_RANGES:
        return _integer_problem(field, value)
    if kind in (_F.TYPE_DOUBLE, _F.TYPE_FLOAT):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return None
        if isinstance(value, str) and (value in _NUMBER_WORDS or _is_float(value)):
            return None
        return f"must be a number, got {shown(value)}"
    if kind == _F.TYPE_ENUM:
        names = list(field.enum_type.values_by_name)
        numbers = field.enum_type.values_by_number
        if value in names or (isinstance(value, int) and not isinstance(value, bool) and value in numbers):
            return None
        return f"must be one of: {', '.join(names)}, got {shown(value)}"
    if kind == _F.TYPE_BYTES:
        ok = isinstance(value, str) and _BASE64.fullmatch(value)
        return None if ok else f"must be base64 text, got {shown(value)}"
    return None


def _integer_problem(field: FieldDescriptor, value: object) -> str | None:
    low, high = INTEGER_RANGES[field.type]
    whole = (
        (isinstance(value, int) and not isinstance(value, bool))
        or (isinstance(value, float) and math.isfinite(value) and value.is_integer())
        or (isinstance(value, str) and _INTEGER_TEXT.fullmatch(value) is not None)
    )
    number = int(value) if whole else None  # type: ignore[arg-type]
    rules = field_rules(field)
    if rules.bounded:
        low = max(low, math.ceil(rules.gte)) if rules.gte is not None else low
        high = min(high, math.floor(rules.lte)) if rules.lte is not None else high
        expected = f"must be a whole number between {low} and {high}"
    else:
        expected = "must be a whole number"
    if number is None:
        return f"{expected}, got {shown(value)}"
    limit_low, limit_high = INTEGER_RANGES[field.type]
    if not limit_low <= number <= limit_high:
        return f"{expected}, got {shown(value)}"
    return None  # inside the type's range: the contract's own range is the service's to check


def _expected_text(field: FieldDescriptor) -> str:
    rules = field_rules(field)
    # A list's items are told "text" whatever their rules: their rules are the service's to explain.
    text = rules.text if not rules.repeated else None
    if text is not None and text.rfc3339:
        return f"{RFC3339_PROBLEM} (a JSON string)"
    if text is not None and text.date:
        return "must be a date as a JSON string, YYYY-MM-DD"
    if text is not None and text.allowed:
        return f"must be one of: {', '.join(text.allowed)}"
    return "must be text (a JSON string)"


def kind_of(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}[
        type(value)
    ]


def shown(value: object) -> str:
    """The value as the client wrote it (JSON), shortened; containers by their kind."""
    if isinstance(value, dict | list):
        return kind_of(value)
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def find_field(descriptor: Descriptor, name: str) -> FieldDescriptor | None:
    """By proto name, or by JSON (camelCase) name."""
    field = descriptor.fields_by_name.get(name)
    if field is None:
        field = next((f for f in descriptor.fields if f.json_name == name), None)
    return field
