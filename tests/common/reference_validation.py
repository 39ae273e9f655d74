"""The straightforward rule walker that common/validation.py replaced: the reference.

Kept for the equivalence test (test_compiled_validation.py): the generated
validators must give exactly the violations this walker gives, in the same order.
Changes since: parse_rfc3339 is the fixed one (fractional seconds kept their zone); a
string with rules must not contain NUL (PostgreSQL text cannot hold it); a missing required
number whose range excludes 0 (its default, also what "not sent" reads as) is told the range.

What the rules are comes from the rules model (common/rules.py, which test_rules.py checks
against the raw options); how they are checked is this walker's own: it shares no code with
the generated validators (ListFields instead of generated field reads, a closure per rule,
its own messages and its own RFC 3339 parser), so the comparison still means something.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime

from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message

from common.errors import FieldViolation
from common.rules import FieldRules, Kind, TextRules, message_rules
from common.validation import NUL_PROBLEM

Check = Callable[[object], str | None]
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


class _Compiled:
    __slots__ = ("by_field", "required", "nested", "per_item")

    def __init__(self) -> None:
        self.by_field: dict[str, list[Check]] = {}
        self.required: list[FieldRules] = []
        self.nested: set[str] = set()
        self.per_item: set[str] = set()


_cache: dict[str, _Compiled] = {}


def validate(message: Message, prefix: str = "") -> list[FieldViolation]:
    """All rule violations of `message` and its nested messages, with dotted field paths."""
    compiled = _compile(message.DESCRIPTOR)
    violations: list[FieldViolation] = []
    for field in compiled.required:
        if not _present(message, field):
            violations.append(FieldViolation(prefix + field.name, _missing(field)))
    for field, value in message.ListFields():
        name = field.name
        for check in compiled.by_field.get(name, ()):
            problem = check(value)
            if problem:
                violations.append(FieldViolation(prefix + name, problem))
        if name in compiled.nested and name not in compiled.per_item:
            if field.is_repeated:
                for index, item in enumerate(value):
                    violations += validate(item, f"{prefix}{name}[{index}].")
            else:
                violations += validate(value, f"{prefix}{name}.")
    return violations


def _present(message: Message, field: FieldRules) -> bool:
    if field.repeated:
        return len(getattr(message, field.name)) > 0
    if field.message is not None or field.descriptor.has_presence:
        return message.HasField(field.name)
    return getattr(message, field.name) not in ("", 0, 0.0, False, b"")


def _compile(descriptor: Descriptor) -> _Compiled:
    found = _cache.get(descriptor.full_name)
    if found is not None:
        return found
    compiled = _Compiled()
    for field in message_rules(descriptor).fields:
        if field.kind is Kind.MESSAGE:  # not a map, not google.protobuf.*
            compiled.nested.add(field.name)
        if field.required:
            compiled.required.append(field)
        if field.per_item:
            compiled.per_item.add(field.name)
        checks = _checks_for(field)
        if checks:
            compiled.by_field[field.name] = checks
    _cache[descriptor.full_name] = compiled
    return compiled


def _checks_for(field: FieldRules) -> list[Check]:
    checks: list[Check] = []
    if field.repeated:
        if field.max_items:
            limit = field.max_items
            checks.append(
                lambda v: f"at most {limit} items allowed, got {len(v)}" if len(v) > limit else None
            )
        if field.text is not None:
            checks.append(_each(_text_checks(field.text)))
        return checks
    if field.text is not None:
        checks += _text_checks(field.text)
    if field.gte is not None or field.lte is not None:
        low = -math.inf if field.gte is None else field.gte
        high = math.inf if field.lte is None else field.lte
        checks.append(lambda v: _bounds(v, low, high))
    return checks


def _each(item_checks: list[Check]) -> Check:
    def check(values: object) -> str | None:
        for index, value in enumerate(values):  # type: ignore[arg-type]
            for item_check in item_checks:
                problem = item_check(value)
                if problem:
                    return f"item {index}: {problem}"
        return None

    return check


def _text_checks(text: TextRules) -> list[Check]:
    checks: list[Check] = [lambda v: NUL_PROBLEM if "\x00" in v else None]
    if text.min_len:
        min_len = text.min_len
        checks.append(lambda v: f"must be at least {min_len} characters" if len(v) < min_len else None)
    if text.max_len:
        max_len = text.max_len
        checks.append(lambda v: f"must be at most {max_len} characters" if len(v) > max_len else None)
    if text.pattern:
        pattern = text.pattern
        regex = re.compile(pattern)
        shown = pattern if len(pattern) < 60 else pattern[:57] + "..."
        checks.append(lambda v: None if regex.fullmatch(v) else f"must match {shown}")
    if text.allowed:
        allowed_set = frozenset(text.allowed)
        listing = ", ".join(text.allowed)
        checks.append(lambda v: None if v in allowed_set else f"must be one of: {listing}")
    if text.rfc3339:
        checks.append(_rfc3339)
    if text.date:
        checks.append(_date)
    return checks


def _bounds(value: float, low: float, high: float) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if value < low or value > high:
        return f"must be between {_fmt(low)} and {_fmt(high)}"
    return None


def _missing(field: FieldRules) -> str:
    number = field.kind in (Kind.INTEGER, Kind.FLOAT, Kind.ENUM)
    if number and not field.repeated and not field.descriptor.has_presence:
        low = -math.inf if field.gte is None else field.gte
        high = math.inf if field.lte is None else field.lte
        if not low <= 0 <= high:
            return f"must be between {_fmt(low)} and {_fmt(high)}"
    return "is required"


def _fmt(x: float) -> str:
    return str(int(x)) if math.isfinite(x) and x == int(x) else str(x)


def _rfc3339(value: str) -> str | None:
    if parse_rfc3339(value) is None:
        return "must be an RFC 3339 timestamp with a time zone, e.g. 2025-03-20T14:30:00Z"
    return None


def parse_rfc3339(value: str) -> datetime | None:
    if not _RFC3339.fullmatch(value):
        return None
    try:
        text = value.replace("z", "Z").replace("Z", "+00:00")
        if "." in text:  # Python accepts at most 6 fractional digits
            head, _, tail = text.partition(".")
            digits = tail[: len(tail) - len(tail.lstrip("0123456789"))]  # the fraction, not the zone
            text = f"{head}.{digits[:6]:0<6}{tail[len(digits) :]}"
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _date(value: str) -> str | None:
    try:
        date.fromisoformat(value)
        if len(value) != 10:
            raise ValueError
    except ValueError:
        return "must be a date, YYYY-MM-DD"
    return None
