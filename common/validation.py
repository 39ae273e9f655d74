"""The one validation layer: enforces the `storyverse.common.v1.rules` field options.

    violations = validate(request)          # [] when valid
    violations[0].field, violations[0].description   # "properties.device_type", "must be one of ..."

The rules of each message type are compiled once into a straight-line Python
function (generated source, see `validator_source`): no rule walking, no lambda
per check, only set fields visited. The checks of a string value are a pure
function of the value, so the values found valid are remembered per field in a
bounded set: slugs, enums and user ids repeat and cost one set lookup (invalid
values are rare and simply checked again). Violations come out in the
same order as ever: missing required fields first (declaration order), then per
set field in field-number order, its checks in rule order, nested messages last.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from storyverse.common.v1 import rules_pb2

from common.errors import FieldViolation

Validator = Callable[[Message, str], list[FieldViolation]]
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")
# Valid values remembered per field. Filled until full, never evicted: frequent
# values arrive early, and unique ids (event_id) then cost one failed lookup.
MEMO_SIZE = 4096
RFC3339_PROBLEM = "must be an RFC 3339 timestamp with a time zone, e.g. 2025-03-20T14:30:00Z"
DATE_PROBLEM = "must be a date, YYYY-MM-DD"

_validators: dict[str, Validator] = {}


def rules_of(field: FieldDescriptor) -> rules_pb2.FieldRules | None:
    options = field.GetOptions()
    if options.HasExtension(rules_pb2.rules):
        return options.Extensions[rules_pb2.rules]
    return None


def validate(message: Message, prefix: str = "") -> list[FieldViolation]:
    """All rule violations of `message` and its nested messages, with dotted field paths."""
    descriptor = message.DESCRIPTOR
    validator = _validators.get(descriptor.full_name)
    if validator is None:
        validator = _build(descriptor)
    return validator(message, prefix)


def validator_for(descriptor: Descriptor) -> Validator:
    """The compiled validator of one message type, for hot loops: validator_for(T)(message, "")."""
    return _validators.get(descriptor.full_name) or _build(descriptor)


def parse_rfc3339(value: str) -> datetime | None:
    # Ingestion parses each timestamp twice in a row (the rule, then the time window):
    # the second time is a lookup. Bounded: cleared when full.
    found = _parsed.get(value, _MISSING)
    if found is _MISSING:
        if len(_parsed) >= MEMO_SIZE:
            _parsed.clear()
        found = _parsed[value] = _parse_rfc3339(value)
    return found  # type: ignore[return-value]


_MISSING = object()
_parsed: dict[str, datetime | None] = {}


def _parse_rfc3339(value: str) -> datetime | None:
    match = _RFC3339.fullmatch(value)
    if match is None:
        return None
    # Python 3.11 reads any number of fractional digits (keeping 6) but not "z".
    try:
        return datetime.fromisoformat(value if value[-1] != "z" else value[:-1] + "Z")
    except ValueError:
        return None


def validator_source(descriptor: Descriptor) -> str:
    """The generated source of a message type's validator (for reading and debugging)."""
    return _Generator(descriptor).source()


# --- compilation ------------------------------------------------------------------------------------------


_building: set[str] = set()


def _build(descriptor: Descriptor) -> Validator:
    _building.add(descriptor.full_name)
    try:
        generator = _Generator(descriptor)
        source = generator.source()
        namespace = generator.namespace
        exec(compile(source, f"<validator {descriptor.full_name}>", "exec"), namespace)  # noqa: S102
    finally:
        _building.discard(descriptor.full_name)
    validator = namespace["validate"]
    _validators[descriptor.full_name] = validator
    return validator


def _nested_validator(descriptor: Descriptor) -> Validator:
    found = _validators.get(descriptor.full_name)
    if found is not None:
        return found
    if descriptor.full_name in _building:  # a recursive type: resolved at call time
        return validate
    return _build(descriptor)


class _Generator:
    def __init__(self, descriptor: Descriptor) -> None:
        self.descriptor = descriptor
        self.namespace: dict[str, object] = {"FV": FieldViolation, "isfinite": math.isfinite}
        self.lines: list[str] = []

    def source(self) -> str:
        self.lines = ["def validate(m, prefix):", "    out = []"]
        for field in self.descriptor.fields:
            rules = rules_of(field)
            if rules is not None and rules.required:
                self._required(field)
        for field in sorted(self.descriptor.fields, key=lambda f: f.number):
            self._field(field, rules_of(field))
        self.lines.append("    return out")
        return "\n".join(self.lines) + "\n"

    def _name(self, prefix: str, value: object, field: FieldDescriptor) -> str:
        name = f"{prefix}_{field.number}"
        self.namespace[name] = value
        return name

    def _emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def _violation(self, field: FieldDescriptor, problem: str) -> str:
        return f"out.append(FV(prefix + {field.name!r}, {problem}))"

    def _required(self, field: FieldDescriptor) -> None:
        if field.is_repeated:
            test = f"not m.{field.name}"
        elif field.message_type is not None or field.has_presence:
            test = f"not m.HasField({field.name!r})"
        else:
            test = f"not m.{field.name}"  # "", 0, 0.0, False, b"": the field's default
        self._emit(1, f"if {test}:")
        self._emit(2, self._violation(field, "'is required'"))

    def _field(self, field: FieldDescriptor, rules: rules_pb2.FieldRules | None) -> None:
        nested = (
            field.message_type is not None
            and not field.message_type.full_name.startswith("google.protobuf.")
            and not (field.is_repeated and field.message_type.GetOptions().map_entry)
            and not (rules is not None and rules.per_item)
        )
        body = self._checks(field, rules) if rules is not None else []
        if not body and not nested:
            return
        self._emit(1, f"v = m.{field.name}")
        self._emit(1, f"if {self._is_set(field)}:")
        for line in body:
            self._emit(2, line)
        if nested:
            sub = self._name("sub", _nested_validator(field.message_type), field)
            if field.is_repeated:
                self._emit(2, "for i, item in enumerate(v):")
                self._emit(3, f"out += {sub}(item, f'{{prefix}}{field.name}[{{i}}].')")
            else:
                self._emit(2, f"out += {sub}(v, prefix + {field.name + '.'!r})")

    def _is_set(self, field: FieldDescriptor) -> str:
        """The condition under which ListFields() would list the field."""
        if field.is_repeated:
            return "v"
        if field.message_type is not None or field.has_presence:
            return f"m.HasField({field.name!r})"
        if field.cpp_type in (FieldDescriptor.CPPTYPE_DOUBLE, FieldDescriptor.CPPTYPE_FLOAT):
            return "v or str(v) == '-0.0'"  # -0.0 is stored (and listed): its bits are not zero
        return "v"

    def _checks(self, field: FieldDescriptor, rules: rules_pb2.FieldRules) -> list[str]:
        lines: list[str] = []
        if field.is_repeated:
            if rules.max_items:
                limit = rules.max_items
                lines += [
                    f"if len(v) > {limit}:",
                    "    " + self._violation(field, f"f'at most {limit} items allowed, got {{len(v)}}'"),
                ]
            item = _string_checks(rules, item=True)
            if item is not None:
                ok = self._name("ok", set(), field)
                compute = self._name("item", item, field)
                lines += [
                    "for i, x in enumerate(v):",
                    f"    if x not in {ok}:",
                    f"        if {self._valid(field, rules, 'x', item=True)}:",
                    f"            if len({ok}) < {MEMO_SIZE}:",
                    f"                {ok}.add(x)",
                    "        else:",
                    "            " + self._violation(field, f"f'item {{i}}: {{{compute}(x)[0]}}'"),
                    "            break",
                ]
            return lines
        if field.message_type is None:
            scalar = _string_checks(rules, item=False)
            if scalar is not None:
                ok = self._name("ok", set(), field)
                compute = self._name("check", scalar, field)
                lines += [
                    f"if v not in {ok}:",
                    f"    if {self._valid(field, rules, 'v', item=False)}:",
                    f"        if len({ok}) < {MEMO_SIZE}:",
                    f"            {ok}.add(v)",
                    "    else:",
                    f"        for problem in {compute}(v):",
                    "            " + self._violation(field, "problem"),
                ]
        if rules.HasField("gte") or rules.HasField("lte"):
            low = rules.gte if rules.HasField("gte") else -math.inf
            high = rules.lte if rules.HasField("lte") else math.inf
            message = f"must be between {_fmt(low)} and {_fmt(high)}"
            bounds = []
            if math.isfinite(low):
                bounds.append(f"v < {low!r}")
            if math.isfinite(high):
                bounds.append(f"v > {high!r}")
            finite = "isinstance(v, float) and not isfinite(v)"
            lines += [f"if {finite}:", "    " + self._violation(field, "'must be a finite number'")]
            if bounds:
                lines += [f"elif {' or '.join(bounds)}:", "    " + self._violation(field, repr(message))]
        return lines

    def _valid(self, field: FieldDescriptor, rules: rules_pb2.FieldRules, var: str, item: bool) -> str:
        """An inline expression true when the string rules find no problem (the fast path);
        the same conditions as _string_checks, which then explains what is wrong."""
        max_len = rules.item_max_len if item else rules.max_len
        pattern = rules.item_pattern if item else rules.pattern
        allowed = list(rules.item_in if item else getattr(rules, "in"))
        conditions = [f"'\\x00' not in {var}"]
        if not item and rules.min_len:
            conditions.append(f"len({var}) >= {rules.min_len}")
        if max_len:
            conditions.append(f"len({var}) <= {max_len}")
        if pattern:
            match = self._name("match", re.compile(pattern).fullmatch, field)
            conditions.append(f"{match}({var}) is not None")
        if allowed:
            conditions.append(f"{var} in {self._name('allowed', frozenset(allowed), field)}")
        if not item and rules.rfc3339:
            self.namespace["parse_rfc3339"] = parse_rfc3339
            conditions.append(f"parse_rfc3339({var}) is not None")
        if not item and rules.date:
            self.namespace["is_date"] = _is_date
            conditions.append(f"is_date({var})")
        return " and ".join(conditions)


NUL_PROBLEM = "must not contain NUL characters"


def _string_checks(rules: rules_pb2.FieldRules, item: bool) -> Callable[[str], tuple[str, ...]] | None:
    """A function giving all problems of one string value, in rule order (memoizable: pure)."""
    max_len = rules.item_max_len if item else rules.max_len
    pattern = rules.item_pattern if item else rules.pattern
    allowed = list(rules.item_in if item else getattr(rules, "in"))
    min_len = 0 if item else rules.min_len
    timestamp = not item and rules.rfc3339
    calendar = not item and rules.date
    if not (min_len or max_len or pattern or allowed or timestamp or calendar):
        return None
    regex = re.compile(pattern) if pattern else None
    shown = pattern if len(pattern) < 60 else pattern[:57] + "..."
    allowed_set = frozenset(allowed)
    listing = ", ".join(allowed)

    def problems(value: str) -> tuple[str, ...]:
        found = []
        if "\x00" in value:  # PostgreSQL text cannot hold it: refused here, not as INTERNAL later
            found.append(NUL_PROBLEM)
        if min_len and len(value) < min_len:
            found.append(f"must be at least {min_len} characters")
        if max_len and len(value) > max_len:
            found.append(f"must be at most {max_len} characters")
        if regex is not None and not regex.fullmatch(value):
            found.append(f"must match {shown}")
        if allowed and value not in allowed_set:
            found.append(f"must be one of: {listing}")
        if timestamp and parse_rfc3339(value) is None:
            found.append(RFC3339_PROBLEM)
        if calendar and not _is_date(value):
            found.append(DATE_PROBLEM)
        return tuple(found)

    return problems


def _fmt(x: float) -> str:
    return str(int(x)) if math.isfinite(x) and x == int(x) else str(x)


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10
