"""_event_rows.compile checks the plan it is given: broken plans raise ValueError, never crash.

rows() indexes its tables with the plan's slots, children and formats and trusts them, so
compile() refuses any plan whose parts do not fit together. The broken plans here are the
planner's valid one (what ingestion runs) with one thing broken, by hand and by hypothesis;
then random changes, broken or not: whatever compile() accepts must read events safely.
"""

from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storyverse.analytics.v1 import analytics_service_pb2 as pb

from analytics_svc.ingestion import event_rows
from analytics_svc.ingestion import prepare as ingest
from tests.analytics.test_event_rows import NOW, full_event, needs_reader
from tests.events import event

pytestmark = needs_reader

STRING, STRINGS, TIMESTAMP, DOUBLE, INT32, MESSAGE, STRUCT = range(1, 8)
MESSAGE_AT, NUMBER, KIND, SLOT, REQUIRED, MIN_LEN, MAX_LEN, FIRST, REST, ALLOWED = range(10)
MAX_ITEMS, LO, HI, CHILD = range(10, 14)
ALL_ASCII = bytes([0xFF] * 16)


def valid() -> tuple:
    """The tables of ingestion's plan: (fields, columns, props, extras_keys, extras_max_string, check)."""
    assert ingest._WIRE_READER is not None
    return ingest._WIRE_READER.tables


def compile_(tables: tuple):
    return event_rows._event_rows.compile(*tables)


def rows_of(tables: tuple) -> list[tuple]:
    return [tuple(row) for row in tables[0]]


def first(tables: tuple, kind: int) -> int:
    """The index of the first field row of that kind."""
    return next(i for i, row in enumerate(tables[0]) if row[KIND] == kind)


def with_field(tables: tuple, index: int, changes: dict[int, object]) -> tuple:
    """The tables with field row `index` changed: {position in the row: value}."""
    fields = [list(row) for row in tables[0]]
    for position, value in changes.items():
        fields[index][position] = value
    return (tuple(tuple(row) for row in fields), *tables[1:])


def with_rows(tables: tuple, fields: list) -> tuple:
    return (tuple(fields), *tables[1:])


def with_part(tables: tuple, position: int, value) -> tuple:
    return (*tables[:position], value, *tables[position + 1 :])


def with_prop(tables: tuple, index: int, position: int, value) -> tuple:
    props = [list(p) for p in tables[2]]
    props[index][position] = value
    return with_part(tables, 2, tuple(tuple(p) for p in props))


def test_the_valid_plan_compiles():
    assert compile_(valid()) is not None


def _slot_of(tables: tuple, kind: int) -> int:
    return tables[0][first(tables, kind)][SLOT]


def _unused_slot(tables: tuple) -> int:
    used = {row[SLOT] for row in tables[0]}
    return next(s for s in range(48) if s not in used)


def _message_row(tables: tuple, message: int, number: int, child: int) -> tuple:
    return (message, number, MESSAGE, -1, 0, 0, 0, None, None, None, 0, None, None, child)


def _string_row(tables: tuple, message: int, number: int, slot: int) -> tuple:
    return (message, number, STRING, slot, 0, 0, 0, None, None, None, 0, None, None, -1)


BROKEN = {
    # the two the issue names: a string without a slot, a message without a child
    "string slot -1": (lambda t: with_field(t, first(t, STRING), {SLOT: -1}), "slot is one of 0..47"),
    "message child -1": (lambda t: with_field(t, first(t, MESSAGE), {CHILD: -1}), "child is one of 1..3"),
    "message child 0": (lambda t: with_field(t, first(t, MESSAGE), {CHILD: 0}), "child is one of 1..3"),
    "message child 4": (lambda t: with_field(t, first(t, MESSAGE), {CHILD: 4}), "child is one of 1..3"),
    "message with a slot": (lambda t: with_field(t, first(t, MESSAGE), {SLOT: 7}), "no slot of its own"),
    "required message": (lambda t: with_field(t, first(t, MESSAGE), {REQUIRED: 1}), "required message"),
    "string with a child": (
        lambda t: with_field(t, first(t, STRING), {CHILD: 1}),
        "only a message has a child",
    ),
    "slot past the end": (lambda t: with_field(t, first(t, DOUBLE), {SLOT: 48}), "slot is one of 0..47"),
    "two fields, one slot": (
        lambda t: with_field(t, first(t, INT32), {SLOT: _slot_of(t, DOUBLE)}),
        "another field's",
    ),
    "kind 0": (lambda t: with_field(t, 0, {KIND: 0}), "kind 0"),
    "kind 8": (lambda t: with_field(t, 0, {KIND: 8}), "kind 8"),
    "field number 0": (lambda t: with_field(t, 0, {NUMBER: 0}), "field number 0"),
    "field number 64": (lambda t: with_field(t, 0, {NUMBER: 64}), "field number 64"),
    "message 4": (lambda t: with_field(t, 0, {MESSAGE_AT: 4}), "message 4 is outside"),
    "message -1": (lambda t: with_field(t, 0, {MESSAGE_AT: -1}), "message -1 is outside"),
    "a field twice": (lambda t: with_rows(t, [*rows_of(t), rows_of(t)[0]]), "twice"),
    "child of two fields": (
        lambda t: with_rows(t, [*rows_of(t), _message_row(t, 0, 63, child=1)]),
        "child of two fields",
    ),
    "a cycle of messages": (
        lambda t: with_rows(t, [*rows_of(t), _message_row(t, 2, 1, child=3), _message_row(t, 3, 1, child=2)]),
        "not reached from message 0",
    ),
    "a message that contains itself": (
        lambda t: with_rows(t, [*rows_of(t), _message_row(t, 2, 1, child=2)]),
        "not reached from message 0",
    ),
    "fields no message leads to": (
        lambda t: with_rows(t, [*rows_of(t), _string_row(t, 3, 1, _unused_slot(t))]),
        "not reached from message 0",
    ),
    "a row of 13": (lambda t: with_rows(t, [*rows_of(t)[:-1], rows_of(t)[-1][:13]]), "tuple of 14"),
    "a row as a list": (lambda t: with_rows(t, [*rows_of(t)[:-1], list(rows_of(t)[-1])]), "tuple of 14"),
    "a slot as text": (lambda t: with_field(t, 0, {SLOT: "3"}), "field 0"),
    "a number past int": (lambda t: with_field(t, 0, {NUMBER: 2**40}), "field 0"),
    "required 2": (lambda t: with_field(t, 0, {REQUIRED: 2}), "required is 0 or 1"),
    "a class of 15 bytes": (
        lambda t: with_field(t, first(t, STRING), {FIRST: bytes(15), REST: bytes(15)}),
        "16 bytes",
    ),
    "first class alone": (
        lambda t: with_field(t, first(t, STRING), {FIRST: ALL_ASCII, REST: None}),
        "together",
    ),
    "classes of a number": (
        lambda t: with_field(t, first(t, INT32), {FIRST: ALL_ASCII, REST: ALL_ASCII}),
        "no text",
    ),
    "lengths of a number": (lambda t: with_field(t, first(t, DOUBLE), {MAX_LEN: 3}), "no text rules"),
    "allowed as a set": (lambda t: with_field(t, first(t, STRING), {ALLOWED: {"a"}}), "frozenset"),
    "allowed numbers": (lambda t: with_field(t, first(t, STRING), {ALLOWED: frozenset({1})}), "are str"),
    "allowed of a timestamp": (
        lambda t: with_field(t, first(t, TIMESTAMP), {ALLOWED: frozenset({"a"})}),
        "no text",
    ),
    "negative length": (lambda t: with_field(t, first(t, STRING), {MIN_LEN: -1}), "not negative"),
    "min_len above max_len": (
        lambda t: with_field(t, first(t, STRING), {MIN_LEN: 9, MAX_LEN: 3}),
        "above max_len",
    ),
    "max_items of a string": (lambda t: with_field(t, first(t, STRING), {MAX_ITEMS: 3}), "no max_items"),
    "negative max_items": (lambda t: with_field(t, first(t, STRINGS), {MAX_ITEMS: -1}), "not negative"),
    "bounds of a string": (lambda t: with_field(t, first(t, STRING), {LO: 0.0}), "no bounds"),
    "a NaN bound": (lambda t: with_field(t, first(t, DOUBLE), {HI: math.nan}), "NaN"),
    "a bound as text": (lambda t: with_field(t, first(t, DOUBLE), {LO: "0"}), "a number or None"),
    "bounds crossed": (lambda t: with_field(t, first(t, INT32), {LO: 5, HI: 1}), "above the upper"),
    "a column past the slots": (lambda t: with_part(t, 1, (*t[1], 48)), "neither a field's slot"),
    "a column no field fills": (
        lambda t: with_part(t, 1, (*t[1], _unused_slot(t))),
        "neither a field's slot",
    ),
    "a column -4": (lambda t: with_part(t, 1, (*t[1], -4)), "neither a field's slot"),
    "a column as text": (lambda t: with_part(t, 1, (*t[1], "1")), "a column is an int"),
    "33 columns": (lambda t: with_part(t, 1, (-1,) * 33), "at most 32"),
    "a property format x": (lambda t: with_prop(t, 0, 2, "x"), "one of s, i, f, j"),
    "a float read as text": (lambda t: with_prop(t, 0, 1, _slot_of(t, DOUBLE)), "does not write a double"),
    "a list read as text": (lambda t: with_prop(t, 0, 1, _slot_of(t, STRINGS)), "does not write a strings"),
    "JSON text from a string": (lambda t: with_prop(t, 0, 2, "j"), "does not write a string"),
    "a property of no field": (lambda t: with_prop(t, 0, 1, _unused_slot(t)), "is no field's"),
    "a property slot -1": (lambda t: with_prop(t, 0, 1, -1), "is no field's"),
    "a prefix without quotes": (lambda t: with_prop(t, 0, 0, b"page: "), "prefix"),
    "a prefix as text": (lambda t: with_prop(t, 0, 0, '"page": '), "property 0"),
    "a key twice": (lambda t: with_prop(t, 1, 0, t[2][0][0]), "another property's"),
    "a property of 2": (lambda t: with_part(t, 2, ((b'"page": ', 1),)), "tuple (prefix, slot, format)"),
    "33 properties": (lambda t: with_part(t, 2, t[2] * 3), "at most 32"),
    "text JSON would escape": (
        lambda t: with_field(t, _row_of_prop(t, 0), {FIRST: ALL_ASCII, REST: ALL_ASCII, ALLOWED: None}),
        "characters JSON escapes",
    ),
    "negative extras length": (lambda t: with_part(t, 4, -1), "extras_max_string"),
    "contact check not callable": (lambda t: with_part(t, 5, None), "callable"),
    "fields as a list": (lambda t: with_part(t, 0, list(t[0])), "plan: "),
    "extras keys as a set": (lambda t: with_part(t, 3, set(t[3])), "plan: "),
}


def _row_of_prop(tables: tuple, prop: int) -> int:
    slot = tables[2][prop][1]
    return next(i for i, row in enumerate(tables[0]) if row[SLOT] == slot and row[KIND] != MESSAGE)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_plan_is_refused_saying_what_is_wrong(name):
    breaking, problem = BROKEN[name]
    broken = breaking(valid())
    with pytest.raises(ValueError, match=re.escape(problem)) as raised:
        compile_(broken)
    assert str(raised.value).startswith("plan: ")


# --- generated: one thing broken anywhere --------------------------------------------------------------


def _breaking_values(row: tuple, other_slots: list[int]) -> list[tuple[int, object]]:
    """(position, value) pairs each of which breaks this field row, whatever else it holds."""
    kind = row[KIND]
    out = [(MESSAGE_AT, v) for v in (-1, 4, 2**31, 2**70, "0", None)]
    out += [(NUMBER, v) for v in (0, -5, 64, 1000)]
    out += [(KIND, v) for v in (0, -1, 8, 100, 1.5)]
    out += [(REQUIRED, 2), (REQUIRED, -1), (MIN_LEN, -1), (MAX_LEN, -3), (MAX_ITEMS, -2)]
    # a class alone, or of the wrong size
    out += (
        [(FIRST, bytes(16)), (REST, bytes(16))] if row[FIRST] is None else [(FIRST, None), (REST, bytes(3))]
    )
    out += [(LO, math.nan), (HI, "1"), (CHILD, 4), (CHILD, -2)]  # NaN or text bounds, or bounds at all
    if kind == MESSAGE:
        out += [(SLOT, 0), (SLOT, 47), (SLOT, -2), (CHILD, -1), (CHILD, 0), (REQUIRED, 1)]
    else:
        out += [(SLOT, v) for v in (-1, -2, 48, 1000, *other_slots)] + [(CHILD, v) for v in (0, 1, 2, 3)]
    if kind in (STRING, STRINGS):
        out += [(ALLOWED, {"a"}), (ALLOWED, ("a",)), (ALLOWED, frozenset({b"a"}))]
        out += [(MIN_LEN, row[MAX_LEN] + 1)] if row[MAX_LEN] else []
    else:
        out += [(MIN_LEN, 1), (MAX_LEN, 5), (ALLOWED, frozenset({"a"}))]
    out += [(MAX_ITEMS, 1)] if kind != STRINGS else []
    out += [(LO, 0.0), (HI, 1)] if kind not in (DOUBLE, INT32) else []
    return out


@st.composite
def broken_plans(draw):
    """The valid plan with one thing broken: in a field row, a column, a property, or a row twice."""
    tables = valid()
    fields, columns, props = tables[:3]
    part = draw(st.sampled_from(["field"] * 7 + ["column", "property", "row twice"]))
    if part == "field":
        index = draw(st.integers(0, len(fields) - 1))
        others = [row[SLOT] for i, row in enumerate(fields) if i != index and row[SLOT] >= 0]
        position, value = draw(st.sampled_from(_breaking_values(fields[index], others)))
        return with_field(tables, index, {position: value})
    if part == "column":
        at = draw(st.integers(0, len(columns) - 1))
        value = draw(st.sampled_from([-4, 48, _unused_slot(tables), "1", None, 2**70]))
        return with_part(tables, 1, (*columns[:at], value, *columns[at + 1 :]))
    if part == "property":
        at = draw(st.integers(0, len(props) - 1))
        kind = next(row[KIND] for row in fields if row[SLOT] == props[at][1])
        wrong_format = {STRING: "f", INT32: "s", DOUBLE: "i", STRUCT: "s"}[kind]
        position, value = draw(
            st.sampled_from(
                [(0, v) for v in (b"", b"x", b'"a"', b'"a\\"": ', '"a": ', None, props[at - 1][0])]
                + [(1, v) for v in (-1, 48, _unused_slot(tables), "2")]
                + [(2, v) for v in ("", "sf", "x", wrong_format)]
            )
        )
        return with_prop(tables, at, position, value)
    return with_rows(tables, [*rows_of(tables), draw(st.sampled_from(rows_of(tables)))])


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken_plans())
def test_any_plan_with_one_thing_broken_is_refused(tables):
    with pytest.raises(ValueError, match="^plan: "):
        compile_(tables)


# --- generated: anything changed; what compiles reads safely ----------------------------------------------

SAMPLES = [
    pb.RecordEventsRequest(events=[full_event(), event(), full_event(duration=-0.0)]).SerializeToString(),
    pb.RecordEventsRequest(events=[full_event(page='a"b'), event(user_id="")]).SerializeToString(),
]
ANY_VALUE = st.one_of(
    st.integers(-5, 70),
    st.sampled_from([None, -1, 0, 1, 2, 3, 47, 48, 2**31, 1.5, math.nan, "", "s", b"", ALL_ASCII, bytes(16)]),
    st.sampled_from([frozenset(), frozenset({"home", "story"}), frozenset({'a"'}), {"x"}]),
)


@st.composite
def changed_plans(draw):
    """The valid plan with one to four things changed, to anything: broken or not."""
    tables = valid()
    for _ in range(draw(st.integers(1, 4))):
        part = draw(st.sampled_from(["field"] * 8 + ["column", "property"]))
        if part == "field":
            index, position = draw(st.integers(0, len(tables[0]) - 1)), draw(st.integers(0, 13))
            seen = sorted({repr(row[position]): row[position] for row in tables[0]}.items())  # often valid
            value = draw(st.one_of(ANY_VALUE, st.sampled_from([v for _, v in seen])))
            tables = with_field(tables, index, {position: value})
        elif part == "column":
            at = draw(st.integers(0, len(tables[1]) - 1))
            tables = with_part(tables, 1, (*tables[1][:at], draw(ANY_VALUE), *tables[1][at + 1 :]))
        else:
            at = draw(st.integers(0, len(tables[2]) - 1))
            value = draw(st.one_of(ANY_VALUE, st.sampled_from("sifj")))
            tables = with_prop(tables, at, draw(st.integers(0, 2)), value)
    return tables


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changed_plans(), st.binary(max_size=300))
def test_whatever_compiles_reads_any_bytes_safely(tables, noise):
    """A plan compile() accepts, however changed, gives a list of rows of the plan's width (or
    None each) on valid events and on noise, and props that are JSON."""
    try:
        plan = compile_(tables)
    except ValueError:
        return
    width = len(tables[1])
    props_column = [i for i, source in enumerate(tables[1]) if source == -2]
    for wire in (*SAMPLES, noise):
        try:
            found = event_rows._event_rows.rows(plan, wire, NOW, 0, 2**62)
        except ValueError:  # not a message with events in field 1
            continue
        for row in found:
            if row is None:
                continue
            assert len(row) == width
            for i in props_column:
                assert row[i] is None or isinstance(json.loads(row[i]), dict)
