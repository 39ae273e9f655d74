"""Rows of events read straight from their wire bytes by the compiled reader (_event_rows.c).

    reader = EventRowReader.build(events_pb2.Event.DESCRIPTOR, columns, props)  # None: not compiled
    rows = reader.rows(request.SerializeToString(), received_at, earliest, latest)
    rows[i]   # the row of the i-th event, or None: "not sure", ask the Python reader

The common case of ingestion (a valid event in the shape clients send) costs the
Python reader ~20 µs of attribute reads and checks per event on a slow core; read
from the wire in C it costs ~1 µs. The C code knows the wire format and how to check
a rule; what to check and what a row holds come from here, built once from the
contract's descriptors and rules (the model of common/rules.py); compile() checks
that the plan's tables fit together and refuses any that do not. For anything it
cannot decide it answers None, and the caller falls back to the Python reader, which
stays the reference: it rejects with the contract's words, and the tests compare
the two on generated events (tests/analytics/test_event_rows.py).

The extension is built by `pip install` (setup.py) where a C compiler is present; without
one, build() returns None and ingestion runs in Python only, with the same results.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from common.rules import FieldRules, Kind, TextRules, message_rules

try:
    from analytics_svc.ingestion import _event_rows
except ImportError:  # no compiler at install time: the Python reader does all the work
    _event_rows = None

# Kinds, as in _event_rows.c.
_STRING, _STRINGS, _TIMESTAMP, _DOUBLE, _INT32, _MESSAGE, _STRUCT = range(1, 8)
RECEIVED_AT = "<received_at>"  # a column holding the arrival time
PROPS = "<props>"  # the column holding the JSON object of `props`
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Characters a JSON string may hold as they are (json.dumps escapes the others).
_JSON_SAFE = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}


@dataclass(frozen=True)
class EventRowReader:
    _plan: object
    planned: frozenset[str]  # field paths read in C; an event setting any other goes to Python
    tables: tuple  # the arguments compile() checked and built the plan from

    @classmethod
    def build(
        cls,
        descriptor: Descriptor,
        columns: Sequence[str],
        props: Sequence[tuple[str, str]],
        extras_keys: frozenset[str],
        extras_max_string: int,
        contact_check: Callable[[str], object],
    ) -> EventRowReader | None:
        """columns: a field path ("user_id", "properties.theme"), RECEIVED_AT or PROPS each;
        props: (JSON key, field path) in the order the PROPS object lists them. Extras (a
        Struct field) are flat scalars under extras_keys, strings at most extras_max_string
        characters for which contact_check is falsy."""
        if _event_rows is None:
            return None
        planner = _Planner({path for _, path in props})
        planner.message(descriptor, "")
        slot_of = planner.slots
        # A field left out of the plan is empty in every event the C reader accepts: None (-3).
        special = {RECEIVED_AT: -1, PROPS: -2}
        column_slots = tuple(special.get(c, slot_of.get(c, -3)) for c in columns)
        prop_plan = tuple(
            (f"{json.dumps(key)}: ".encode(), slot_of[path], planner.formats[path])
            for key, path in props
            if path in slot_of
        )
        fields = tuple(planner.fields)
        tables = (fields, column_slots, prop_plan, extras_keys, extras_max_string, contact_check)
        return cls(_event_rows.compile(*tables), frozenset(planner.planned), tables)

    def rows(self, wire: bytes, received_at: datetime, earliest: datetime, latest: datetime) -> list | None:
        """wire: a message whose field 1 holds the events (RecordEventsRequest, RecordEventRequest;
        other fields are skipped); a row for each event with its timestamp in [earliest, latest],
        else None (not sure). None for all when wire is not such a message."""
        try:
            return _event_rows.rows(self._plan, wire, received_at, _micros(earliest), _micros(latest))
        except ValueError:
            return None


def field_one(serialized: Sequence[bytes]) -> bytes:
    """A message holding these serialized events in its field 1, as rows() reads (events that
    arrive one by one, e.g. from Kafka)."""
    parts = []
    for data in serialized:
        parts.append(b"\x0a")  # field 1, length-delimited
        size = len(data)
        while size >= 0x80:
            parts.append(bytes(((size & 0x7F) | 0x80,)))
            size >>= 7
        parts.append(bytes((size,)))
        parts.append(data)
    return b"".join(parts)


def _micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class _Planner:
    """The C reader's tables: one row per field it reads, one slot per value."""

    def __init__(self, in_props: set[str]) -> None:
        self.in_props = in_props  # paths written into the PROPS JSON: their text must be JSON-safe
        self.fields: list[tuple] = []
        self.slots: dict[str, int] = {}
        self.formats: dict[str, str] = {}  # path → how PROPS writes it
        self.planned: list[str] = []
        self.messages = 0

    def message(self, descriptor: Descriptor, prefix: str) -> int:
        index = self.messages
        self.messages += 1
        for field in message_rules(descriptor).fields:
            path = prefix + field.name
            kind = _kind(field)
            try:
                checks = _checks(field)
            except ValueError:  # a rule of a shape the C reader does not know
                kind = None
            form = _format(field)
            if kind is None or (path in self.in_props and form is None):
                continue  # not in the plan: an event that sets it goes to the Python reader
            child = self.message(field.message, path + ".") if kind == _MESSAGE else -1
            slot = -1
            if kind != _MESSAGE:
                slot = self.slots[path] = len(self.slots)
                self.formats[path] = form or "-"  # "-": not for PROPS (compile refuses it there)
            self.fields.append((index, field.number, kind, slot, *checks, child))
            self.planned.append(path)
        return index


def _kind(field: FieldRules) -> int | None:
    if field.message is not None:
        if field.repeated:
            return None
        if field.message.full_name == "google.protobuf.Struct":
            return _STRUCT
        if field.kind is not Kind.MESSAGE or field.required:
            return None
        return _MESSAGE
    text = field.text
    if field.kind is Kind.STRING:
        if text is not None and text.date:
            return None
        if field.repeated:
            return _STRINGS
        if text is not None and text.rfc3339:
            # The C reader parses the timestamp and checks nothing else of its text.
            return _TIMESTAMP if text == TextRules(rfc3339=True) else None
        return _STRING
    if not field.presence:
        return None  # plain proto3 scalars and lists of numbers: not used by events
    if field.descriptor.type == FieldDescriptor.TYPE_DOUBLE:
        return _DOUBLE
    if field.descriptor.type == FieldDescriptor.TYPE_INT32:
        return _INT32
    return None


def _checks(field: FieldRules) -> tuple:
    """(required, min_len, max_len, first, rest, allowed, max_items, lo, hi) for compile(); the
    child index is appended by the caller. A pattern becomes character classes (see _classes)."""
    text = field.text
    min_len = max_len = 0
    first = rest = allowed = None
    if text is not None and not text.rfc3339:  # a timestamp's text: parsed, not checked
        min_len, max_len = text.min_len, text.max_len
        allowed = frozenset(text.allowed) if text.allowed else None
        if text.pattern:
            first, rest, low, high = _classes(text.pattern)
            min_len, max_len = max(min_len, low), min(max_len or high, high)
            if max_len < min_len:
                raise ValueError(f"pattern {text.pattern} and the length rules admit no text")
    required, max_items = int(field.required), field.max_items
    return (required, min_len, max_len, first, rest, allowed, max_items, field.gte, field.lte)


def _classes(pattern: str) -> tuple[bytes, bytes, int, int]:
    """The patterns of the contract, "[class]{m,n}" or "[class][class]{m,n}", as the first
    character's class, the others' class and the length bounds. Any other pattern raises:
    teach this function its shape (the tests compare the reader with re.fullmatch again)."""
    atoms = [(_bits(m[1]), int(m[2] or 1), int(m[3] or 1)) for m in _ATOM.finditer(pattern)]
    if "".join(m[0] for m in _ATOM.finditer(pattern)) == pattern:
        if len(atoms) == 1 and atoms[0][1] >= 1:
            bits, low, high = atoms[0]
            return bits, bits, low, high
        if len(atoms) == 2 and atoms[0][1:] == (1, 1):
            return atoms[0][0], atoms[1][0], 1 + atoms[1][1], 1 + atoms[1][2]
    raise ValueError(f"pattern outside what the compiled reader knows: {pattern}")


# "[class]" or "[class]{m,n}", the class without negation or escapes.
_ATOM = re.compile(r"\[([^\]\\^][^\]\\]*)\](?:\{(\d+),(\d+)\})?")


def _bits(members: str) -> bytes:
    """A 128-bit ASCII class from a class's text: ranges "a-z" and literals ("-" last)."""
    bits = bytearray(16)
    i = 0
    while i < len(members):
        if i + 2 < len(members) and members[i + 1] == "-":
            codes, i = range(ord(members[i]), ord(members[i + 2]) + 1), i + 3
        else:
            codes, i = [ord(members[i])], i + 1
        for code in codes:
            if code >= 128:
                raise ValueError("the compiled reader knows ASCII classes only")
            bits[code >> 3] |= 1 << (code & 7)
    return bytes(bits)


def _format(field: FieldRules) -> str | None:
    """How a value is written in the PROPS object: 's' a string its rules keep JSON-safe; None
    for text they do not (it cannot be written as it is) and for lists."""
    if field.message is not None:
        return "j"
    if field.descriptor.type == FieldDescriptor.TYPE_DOUBLE:
        return "f"
    if field.descriptor.type == FieldDescriptor.TYPE_INT32:
        return "i"
    text = field.text
    if text is not None and not field.repeated:
        if text.allowed and all(set(value) <= _JSON_SAFE for value in text.allowed):
            return "s"
        if text.pattern:
            try:
                classes = _classes(text.pattern)[:2]
            except ValueError:
                return None
            if all(_safe_class(bits) for bits in classes):
                return "s"
    return None


def _safe_class(bits: bytes) -> bool:
    return all(chr(c) in _JSON_SAFE for c in range(128) if bits[c >> 3] >> (c & 7) & 1)
