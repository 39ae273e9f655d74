"""The one validation layer: enforces the `storyverse.common.v1.rules` field options.

    violations = validate(request)          # [] when valid
    violations[0].field, violations[0].description   # "properties.device_type", "must be one of ..."

What the rules are comes from the rules model (common/rules.py, read once from the
descriptors); how they are checked is decided here. The rules of each message type
are compiled once into a straight-line Python
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
from collections.abc import Callable, Sequence
from datetime import date, datetime

from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message

from common.errors import FieldViolation
from common.rules import FieldRules, Kind, TextRules, message_rules

Validator = Callable[[Message, str], list[FieldViolation]]
Reader = Callable[[Message], tuple | None]
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")
# Valid values remembered per field. Filled until full, never evicted: frequent
# values arrive early, and unique ids (event_id) then cost one failed lookup.
MEMO_SIZE = 4096
RFC3339_PROBLEM = "must be an RFC 3339 timestamp with a time zone, e.g. 2025-03-20T14:30:00Z"
DATE_PROBLEM = "must be a date, YYYY-MM-DD"

_validators: dict[str, Validator] = {}


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
    """The datetime of an RFC 3339 timestamp with a zone, or None. Clients send UTC with "Z" and
    at most microseconds nearly always: that shape (ASCII digits) is a subset of the general
    pattern, and fromisoformat reads it as it is, so it goes there straight away. No memo:
    real traffic seldom repeats a timestamp."""
    if _UTC_SHAPE(value) is not None:
        try:
            return _fromisoformat(value)
        except ValueError:  # e.g. month 13
            return None
    return _parse_rfc3339(value)


_UTC_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?Z").fullmatch
_fromisoformat = datetime.fromisoformat


def _parse_rfc3339(value: str) -> datetime | None:
    """Any timestamp the rule accepts (the slow path of parse_rfc3339)."""
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
        rules = message_rules(self.descriptor)
        for field in rules.required:
            self._required(field)
        for field in rules.by_number:
            self._field(field)
        self.lines.append("    return out")
        return "\n".join(self.lines) + "\n"

    def _name(self, prefix: str, value: object, field: FieldRules) -> str:
        name = f"{prefix}_{field.number}"
        self.namespace[name] = value
        return name

    def _emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def _violation(self, field: FieldRules, problem: str) -> str:
        return f"out.append(FV(prefix + {field.name!r}, {problem}))"

    def _required(self, field: FieldRules) -> None:
        # Without presence the field's default ("", 0, 0.0, False, b"", no items) is "not sent".
        test = f"not m.HasField({field.name!r})" if field.presence else f"not m.{field.name}"
        self._emit(1, f"if {test}:")
        self._emit(2, self._violation(field, repr(_required_problem(field))))

    def _field(self, field: FieldRules) -> None:
        body = self._checks(field)
        if not body and not field.nested:
            return
        self._emit(1, f"v = m.{field.name}")
        self._emit(1, f"if {self._is_set(field)}:")
        for line in body:
            self._emit(2, line)
        if field.nested:
            sub = self._name("sub", _nested_validator(field.message), field)
            if field.repeated:
                self._emit(2, "for i, item in enumerate(v):")
                self._emit(3, f"out += {sub}(item, f'{{prefix}}{field.name}[{{i}}].')")
            else:
                self._emit(2, f"out += {sub}(v, prefix + {field.name + '.'!r})")

    def _is_set(self, field: FieldRules) -> str:
        """The condition under which ListFields() would list the field."""
        if field.presence:
            return f"m.HasField({field.name!r})"
        if field.kind is Kind.FLOAT and not field.repeated:
            return "v or str(v) == '-0.0'"  # -0.0 is stored (and listed): its bits are not zero
        return "v"

    def _checks(self, field: FieldRules) -> list[str]:
        lines: list[str] = []
        text = field.text
        if field.repeated:
            if field.max_items:
                limit = field.max_items
                lines += [
                    f"if len(v) > {limit}:",
                    "    " + self._violation(field, f"f'at most {limit} items allowed, got {{len(v)}}'"),
                ]
            if text is not None:
                ok = self._name("ok", set(), field)
                compute = self._name("item", _string_checks(text), field)
                lines += [
                    "for i, x in enumerate(v):",
                    f"    if x not in {ok}:",
                    f"        if {self._valid(field, text, 'x')}:",
                    f"            if len({ok}) < {MEMO_SIZE}:",
                    f"                {ok}.add(x)",
                    "        else:",
                    "            " + self._violation(field, f"f'item {{i}}: {{{compute}(x)[0]}}'"),
                    "            break",
                ]
            return lines
        if text is not None:
            ok = self._name("ok", set(), field)
            compute = self._name("check", _string_checks(text), field)
            lines += [
                f"if v not in {ok}:",
                f"    if {self._valid(field, text, 'v')}:",
                f"        if len({ok}) < {MEMO_SIZE}:",
                f"            {ok}.add(v)",
                "    else:",
                f"        for problem in {compute}(v):",
                "            " + self._violation(field, "problem"),
            ]
        if field.bounded:
            low, high = _bounds(field)
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

    def _valid(self, field: FieldRules, text: TextRules, var: str, timestamp: bool = True) -> str:
        """An inline expression true when the string rules find no problem (the fast path);
        the same conditions as _string_checks, which then explains what is wrong. Without
        `timestamp` the rfc3339 rule is left to the caller (the reader parses the value once)."""
        conditions = [f"'\\x00' not in {var}"]
        if text.min_len:
            conditions.append(f"len({var}) >= {text.min_len}")
        if text.max_len:
            conditions.append(f"len({var}) <= {text.max_len}")
        if text.pattern:
            match = self._name("match", re.compile(text.pattern).fullmatch, field)
            conditions.append(f"{match}({var}) is not None")
        if text.allowed:
            conditions.append(f"{var} in {self._name('allowed', frozenset(text.allowed), field)}")
        if text.rfc3339 and timestamp:
            self.namespace["parse_rfc3339"] = parse_rfc3339
            conditions.append(f"parse_rfc3339({var}) is not None")
        if text.date:
            self.namespace["is_date"] = _is_date
            conditions.append(f"is_date({var})")
        return " and ".join(conditions)


# --- one-pass readers -------------------------------------------------------------------------------------


def reader_for(descriptor: Descriptor, paths: Sequence[str]) -> Reader:
    """A generated function that reads a message once, applying every rule of it and of its
    nested messages, and hands back what it read: the values of `paths` (dotted field paths,
    e.g. "properties.page"), in that order, when validate(message) would find nothing, and
    None when it would find something (validate then says what, in its order and words).

    For loops that validate a message and then use its fields (ingestion: validate an event,
    build its row): each field is read once instead of twice. The values are as the message
    gives them, except: a field with presence (an optional scalar, a message) is None when it
    is not set; a repeated field is its container; an rfc3339 field is the parsed datetime
    (None when empty). Repeated and recursive nested messages go through their validator."""
    return _ReaderGenerator(descriptor, paths).build()


class _ReaderGenerator(_Generator):
    """The validator's conditions, compiled as "valid or not" with the values kept in locals."""

    def __init__(self, descriptor: Descriptor, paths: Sequence[str]) -> None:
        super().__init__(descriptor)
        self.paths = list(paths)
        self.values: dict[str, str] = {}  # path → expression of its value
        self.count = 0

    def build(self) -> Reader:
        source = self.source()
        exec(compile(source, f"<reader {self.descriptor.full_name}>", "exec"), self.namespace)  # noqa: S102
        read = self.namespace["read"]
        read.source = source  # type: ignore[attr-defined]
        return read  # type: ignore[return-value]

    def source(self) -> str:
        self.lines = ["def read(m):"]
        self._message(self.descriptor, "m", "", None, (self.descriptor.full_name,))
        unknown = [path for path in self.paths if path not in self.values]
        if unknown:
            raise ValueError(f"no such field in {self.descriptor.full_name}: {', '.join(unknown)}")
        self._emit(1, f"return ({''.join(self.values[path] + ', ' for path in self.paths)})")
        return "\n".join(self.lines) + "\n"

    def _name(self, prefix: str, value: object, field: FieldRules) -> str:
        self.count += 1
        name = f"{prefix}_{self.count}"  # unique across nested messages (field numbers are not)
        self.namespace[name] = value
        return name

    def _local(self, kind: str) -> str:
        self.count += 1
        return f"{kind}{self.count}"

    def _message(
        self, descriptor: Descriptor, var: str, prefix: str, present: str | None, chain: tuple[str, ...]
    ) -> None:
        """The checks of one message held in `var`; `present` (None at the top) is the local telling
        whether the message is set in its parent: the validator checks an unset nested message not
        at all, and its fields, all at their defaults, break no rule except `required`."""
        wanted = {path.removeprefix(prefix).split(".")[0] for path in self.paths if path.startswith(prefix)}
        for field in message_rules(descriptor).fields:
            path = prefix + field.name
            nested, required, checked = field.nested, field.required, self._has_checks(field)
            if not (checked or nested or required or field.name in wanted):
                continue
            v = self._local("v")
            if field.message is not None and not (field.repeated or nested or checked or required):
                # Only wanted (e.g. a google.protobuf.Struct): not read when not set.
                self._emit(1, f"{v} = {var}.{field.name} if {var}.HasField({field.name!r}) else None")
                self.values[path] = v
                continue
            self._emit(1, f"{v} = {var}.{field.name}")
            presence = field.presence
            has = None
            if presence and (
                required or checked or field.name in wanted or nested and self._presence_needed(field, chain)
            ):
                has = self._local("h")
                if field.message is None and not field.descriptor.default_value:
                    # Unset, an optional scalar reads as its (falsy) default: any other value is set.
                    self._emit(1, f"{has} = {v} or {var}.HasField({field.name!r})")
                else:
                    self._emit(1, f"{has} = {var}.HasField({field.name!r})")
            if required:
                missing = f"not {has}" if presence else f"not {v}"
                self._emit(1, f"if {missing if present is None else f'{present} and {missing}'}:")
                self._emit(2, "return None")
            value = f"({v} if {has} else None)" if has is not None else v
            if checked:
                if required and present is None:
                    is_set = "True"  # just checked
                elif presence:
                    is_set = has
                elif field.kind is Kind.FLOAT:
                    is_set = f"{v} or str({v}) == '-0.0'"
                else:
                    is_set = v
                value = self._fast_checks(field, v, is_set) or value
            if nested:
                if field.repeated or field.message.full_name in chain:
                    sub = self._name("sub", _nested_validator(field.message), field)
                    items = f"{v}" if field.repeated else f"({v},) if {has} else ()"
                    self._emit(1, f"for item in {items}:")
                    self._emit(2, f"if {sub}(item, ''):")
                    self._emit(3, "return None")
                else:
                    self._message(field.message, v, path + ".", has, (*chain, field.message.full_name))
            self.values[path] = value

    def _presence_needed(self, field: FieldRules, chain: tuple[str, ...]) -> bool:
        """Whether a nested message's checks depend on its presence (required fields in it, or
        recursion: then it goes through its validator when set)."""
        return field.message.full_name in chain or message_rules(field.message).requires

    def _has_checks(self, field: FieldRules) -> bool:
        """Whether the validator checks anything of the field's own value (as _checks)."""
        return bool(field.max_items) or field.text is not None or field.bounded

    def _fast_checks(self, field: FieldRules, v: str, is_set: str) -> str | None:
        """The lines returning None where _checks would report a violation; the expression of
        the value when it is not the field itself (rfc3339: the parsed datetime)."""
        text = field.text
        parsed = self._local("t") if text is not None and text.rfc3339 else None
        if parsed is not None:
            self._emit(1, f"{parsed} = None")
        self._emit(1, f"if {is_set}:")
        if field.repeated:
            if field.max_items:
                self._emit(2, f"if len({v}) > {field.max_items}:")
                self._emit(3, "return None")
            if text is not None:
                self._emit(2, f"for x in {v}:")
                self._memoized_check(3, field, text, "x")
            return None
        if text is not None:
            if parsed is not None:  # no memo: the parsed value is wanted (and timestamps seldom repeat)
                self._emit(2, f"if not ({self._valid(field, text, v, timestamp=False)}):")
                self._emit(3, "return None")
                self.namespace["parse_rfc3339"] = parse_rfc3339
                self._emit(2, f"{parsed} = parse_rfc3339({v})")
                self._emit(2, f"if {parsed} is None:")
                self._emit(3, "return None")
            else:
                self._memoized_check(2, field, text, v)
        if field.bounded:
            self._emit(2, f"if isinstance({v}, float) and not isfinite({v}):")
            self._emit(3, "return None")
            bounds = []
            low, high = _bounds(field)
            if math.isfinite(low):
                bounds.append(f"{v} < {low!r}")
            if math.isfinite(high):
                bounds.append(f"{v} > {high!r}")
            if bounds:
                self._emit(2, f"if {' or '.join(bounds)}:")
                self._emit(3, "return None")
        return parsed

    def _memoized_check(self, indent: int, field: FieldRules, text: TextRules, var: str) -> None:
        """Lines returning None when the string in `var` breaks the rules; valid ones are remembered."""
        ok = self._name("ok", set(), field)
        self._emit(indent, f"if {var} not in {ok}:")
        self._emit(indent + 1, f"if not ({self._valid(field, text, var)}):")
        self._emit(indent + 2, "return None")
        self._emit(indent + 1, f"if len({ok}) < {MEMO_SIZE}:")
        self._emit(indent + 2, f"{ok}.add({var})")


def _required_problem(field: FieldRules) -> str:
    """What a missing required field is told. A number's default, 0, is also what "not sent"
    reads as: when the field's range excludes 0, the range says both ("rating": 0 or no rating:
    "must be between 1 and 5")."""
    if field.numeric and not field.repeated and not field.presence:
        low, high = _bounds(field)
        if not low <= 0 <= high:
            return f"must be between {_fmt(low)} and {_fmt(high)}"
    return "is required"


def _bounds(field: FieldRules) -> tuple[float, float]:
    """gte and lte, infinite where not given."""
    return (
        field.gte if field.gte is not None else -math.inf,
        field.lte if field.lte is not None else math.inf,
    )


NUL_PROBLEM = "must not contain NUL characters"


def _string_checks(text: TextRules) -> Callable[[str], tuple[str, ...]]:
    """A function giving all problems of one string value, in rule order (memoizable: pure)."""
    min_len, max_len, pattern, allowed = text.min_len, text.max_len, text.pattern, text.allowed
    timestamp, calendar = text.rfc3339, text.date
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
