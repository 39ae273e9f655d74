"""The contract's validation rules, read from the descriptors once.

    rules = message_rules(events_pb2.Event.DESCRIPTOR)
    rules.field("event_type").text.allowed      # ("story_view", ...)
    field_rules(descriptor.fields_by_name["rating"]).gte   # 1.0

The `storyverse.common.v1.rules` options (proto/storyverse/common/v1/rules.proto) become a
small typed model, cached per message type. Everything that interprets the rules reads this
model and never the options: the validators (common/validation.py), the compiled event
reader's plan (analytics_svc/ingestion/event_rows.py), the OpenAPI document and the JSON type errors
(gateway/), the reference validator of the tests. Which rules apply where is decided here:
a string value's rules are the field's own when it is singular and the item_* ones when it
is repeated, bounds and max_items belong to numbers and lists. A rule in a place where no
consumer would enforce it (a pattern on a number, max_items on a singular field, ...) is a
mistake in the contract and raises ValueError when the message type is first read.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import cached_property

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from storyverse.common.v1 import rules_pb2

_F = FieldDescriptor


class Kind(enum.Enum):
    STRING = "string"
    BYTES = "bytes"
    BOOL = "bool"
    INTEGER = "integer"
    FLOAT = "float"  # double and float
    ENUM = "enum"
    MESSAGE = "message"  # a message of the contract
    MAP = "map"
    WELL_KNOWN = "well-known"  # google.protobuf.*: Struct, Timestamp, ...


@dataclass(frozen=True, slots=True)
class TextRules:
    """The rules of one string value: a singular field's, or each item of a repeated one
    (items have no min_len, rfc3339 or date rule)."""

    min_len: int = 0
    max_len: int = 0  # 0: no bound
    pattern: str = ""  # for re.fullmatch
    allowed: tuple[str, ...] = ()
    rfc3339: bool = False
    date: bool = False


@dataclass(frozen=True, slots=True)
class FieldRules:
    descriptor: FieldDescriptor
    kind: Kind
    required: bool = False
    per_item: bool = False  # a message (each element) validated by the service itself
    text: TextRules | None = None  # None: no rule on the string values
    gte: float | None = None
    lte: float | None = None
    max_items: int = 0  # 0: no bound

    @property
    def name(self) -> str:
        return self.descriptor.name

    @property
    def number(self) -> int:
        return self.descriptor.number

    @property
    def repeated(self) -> bool:
        return self.descriptor.is_repeated

    @property
    def presence(self) -> bool:
        """Singular with presence (a message, an optional scalar): HasField tells whether it is set."""
        return not self.descriptor.is_repeated and (
            self.descriptor.message_type is not None or self.descriptor.has_presence
        )

    @property
    def message(self) -> Descriptor | None:
        """The message type of a message, map or well-known field."""
        return self.descriptor.message_type

    @property
    def nested(self) -> bool:
        """A message of the contract whose own rules are checked as part of this one."""
        return self.kind is Kind.MESSAGE and not self.per_item

    @property
    def numeric(self) -> bool:
        return self.kind in (Kind.INTEGER, Kind.FLOAT, Kind.ENUM)

    @property
    def bounded(self) -> bool:
        return self.gte is not None or self.lte is not None


@dataclass(frozen=True)
class MessageRules:
    descriptor: Descriptor
    fields: tuple[FieldRules, ...]  # in declaration order

    @cached_property
    def by_number(self) -> tuple[FieldRules, ...]:
        return tuple(sorted(self.fields, key=lambda f: f.number))

    @cached_property
    def required(self) -> tuple[FieldRules, ...]:
        return tuple(f for f in self.fields if f.required)

    @cached_property
    def requires(self) -> bool:
        """Whether this message or a message reachable from it has a required field."""
        seen: set[str] = set()
        pending = [self]
        while pending:
            rules = pending.pop()
            if rules.required:
                return True
            seen.add(rules.descriptor.full_name)
            pending += [
                message_rules(f.message)
                for f in rules.fields
                if f.kind in (Kind.MESSAGE, Kind.MAP) and f.message.full_name not in seen
            ]
        return False

    def field(self, name: str) -> FieldRules:
        return self._by_name[name]

    @cached_property
    def _by_name(self) -> dict[str, FieldRules]:
        return {f.name: f for f in self.fields}


_cache: dict[Descriptor, MessageRules] = {}


def message_rules(descriptor: Descriptor) -> MessageRules:
    """The rules of a message type's fields (read once, then cached)."""
    found = _cache.get(descriptor)
    if found is None:
        found = _cache[descriptor] = MessageRules(descriptor, tuple(_parse(f) for f in descriptor.fields))
    return found


def field_rules(field: FieldDescriptor) -> FieldRules:
    return message_rules(field.containing_type).field(field.name)


# --- reading the options ----------------------------------------------------------------------------------

_INTEGERS = {
    _F.TYPE_INT32,
    _F.TYPE_INT64,
    _F.TYPE_UINT32,
    _F.TYPE_UINT64,
    _F.TYPE_SINT32,
    _F.TYPE_SINT64,
    _F.TYPE_FIXED32,
    _F.TYPE_FIXED64,
    _F.TYPE_SFIXED32,
    _F.TYPE_SFIXED64,
}
_SCALAR_KINDS = {
    _F.TYPE_STRING: Kind.STRING,
    _F.TYPE_BYTES: Kind.BYTES,
    _F.TYPE_BOOL: Kind.BOOL,
    _F.TYPE_DOUBLE: Kind.FLOAT,
    _F.TYPE_FLOAT: Kind.FLOAT,
    _F.TYPE_ENUM: Kind.ENUM,
    **dict.fromkeys(_INTEGERS, Kind.INTEGER),
}


def _kind(field: FieldDescriptor) -> Kind:
    message = field.message_type
    if message is None:
        return _SCALAR_KINDS[field.type]
    if message.GetOptions().map_entry:
        return Kind.MAP
    if message.full_name.startswith("google.protobuf."):
        return Kind.WELL_KNOWN
    return Kind.MESSAGE


def _parse(field: FieldDescriptor) -> FieldRules:
    kind = _kind(field)
    options = field.GetOptions()
    if not options.HasExtension(rules_pb2.rules):
        return FieldRules(field, kind)
    raw = options.Extensions[rules_pb2.rules]
    own = TextRules(raw.min_len, raw.max_len, raw.pattern, tuple(getattr(raw, "in")), raw.rfc3339, raw.date)
    items = TextRules(max_len=raw.item_max_len, pattern=raw.item_pattern, allowed=tuple(raw.item_in))
    repeated = field.is_repeated
    rules = FieldRules(
        field,
        kind,
        required=raw.required,
        per_item=raw.per_item,
        text=_text(items if repeated else own),
        gte=raw.gte if raw.HasField("gte") else None,
        lte=raw.lte if raw.HasField("lte") else None,
        max_items=raw.max_items,
    )
    problem = _misplaced(rules, ignored=own if repeated else items)
    if problem:
        raise ValueError(f"rules of {field.full_name}: {problem}")
    return rules


def _text(rules: TextRules) -> TextRules | None:
    return rules if rules != TextRules() else None


def _misplaced(rules: FieldRules, ignored: TextRules) -> str | None:
    """What is wrong with where the rules stand, or None. ignored: the string rules of the
    other shape (the field's own when it is repeated, the item_* ones when it is not)."""
    if ignored != TextRules():
        if rules.repeated:
            return "min_len, max_len, pattern, in, rfc3339 and date belong to singular strings"
        return "item_max_len, item_pattern and item_in belong to repeated strings"
    if rules.text is not None:
        if rules.kind is not Kind.STRING:
            return "string rules on a field that holds no string"
        text = rules.text
        if text.max_len and text.min_len > text.max_len:
            return "min_len above max_len"
        if text.rfc3339 and text.date:
            return "both rfc3339 and date"
        try:
            re.compile(text.pattern)
        except re.error as error:
            return f"pattern does not compile: {error}"
    if rules.bounded:
        if rules.repeated or rules.kind not in (Kind.INTEGER, Kind.FLOAT):
            return "gte/lte belong to singular numbers"
        if rules.gte is not None and rules.lte is not None and rules.gte > rules.lte:
            return "gte above lte"
    if rules.max_items and not rules.repeated:
        return "max_items belongs to repeated fields"
    if rules.per_item and rules.kind is not Kind.MESSAGE:
        return "per_item belongs to message fields"
    return None
