"""The hot routes' JSON bodies -> the request message's protobuf wire bytes, in C (_json_wire.c).

    wire = WirePlan.build(plan, wrapper_number)   # None: the extension is not built
    wire.encode(raw_body)                         # bytes, or None: "not sure"

fast_transcode.py's path (orjson, kwargs, one constructor call) costs ~11 µs per event of a
batch; most of it is building Python objects that the constructor reads once. The C encoder
reads the JSON bytes and writes the wire bytes directly from a plan made here from the same
json_plan.Plan (so it covers the same kinds, never more); the caller parses them with upb
(`cls.FromString`). For anything it is not sure of it answers None and fast_transcode.py's
path runs, then build_request: the accepted set may be smaller, never larger, and the message
is the same (tests/gateway/test_fast_transcode.py compares them). Keys written with escapes
(`"event\\u005fid"`) are among what it declines.

The extension is built by `pip install` (setup.py) where a C compiler is present; without
one, build() returns None and the Python path does the work.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.descriptor import FieldDescriptor

from gateway.json_plan import BOOL, DOUBLE, INTEGER, MESSAGE, STRING, STRUCT, Plan

try:
    from gateway import _json_wire
except ImportError:  # no compiler at install time: fast_transcode.py's Python path
    _json_wire = None

_F = FieldDescriptor
# Kinds, as in _json_wire.c.
_UNPLANNED, _STRING, _BOOL, _VARINT, _ZIGZAG, _FIXED32, _FIXED64, _DOUBLE, _MESSAGE, _STRUCT = range(10)
_INTEGER_WIRE = {
    _F.TYPE_INT32: _VARINT,
    _F.TYPE_INT64: _VARINT,
    _F.TYPE_UINT32: _VARINT,
    _F.TYPE_UINT64: _VARINT,
    _F.TYPE_SINT32: _ZIGZAG,
    _F.TYPE_SINT64: _ZIGZAG,
    _F.TYPE_FIXED32: _FIXED32,
    _F.TYPE_SFIXED32: _FIXED32,
    _F.TYPE_FIXED64: _FIXED64,
    _F.TYPE_SFIXED64: _FIXED64,
}
_SIMPLE = {STRING: _STRING, BOOL: _BOOL, DOUBLE: _DOUBLE, STRUCT: _STRUCT}
# _json_wire.c's bounds (MAX_MESSAGES, MAX_FIELDS, MAX_KEYS): a plan beyond them stays in Python.
_MAX_MESSAGES, _MAX_FIELDS, _MAX_KEYS = 32, 64, 128


@dataclass(frozen=True)
class WirePlan:
    _plan: object
    tables: tuple  # compile()'s arguments: (messages, root, wrapper number)

    @classmethod
    def build(cls, plan: Plan, wrapper_number: int) -> WirePlan | None:
        """The compiled plan of a request whose body is `plan`'s message, as the field
        `wrapper_number` of the request (0: the body is the request itself)."""
        if _json_wire is None:
            return None
        messages = _messages(plan)
        if len(messages) > _MAX_MESSAGES or any(
            len(fields) > _MAX_FIELDS or len(keys) > _MAX_KEYS for fields, keys in messages
        ):
            return None
        tables = (messages, 0, wrapper_number)
        return cls(_json_wire.compile(*tables), tables)

    def encode(self, raw_body: bytes) -> bytes | None:
        return _json_wire.encode(self._plan, raw_body)


def _messages(root: Plan) -> list[tuple[list, list]]:
    """compile()'s message tables, root first: per message its fields (number, kind, repeated,
    child, the magnitude allowed below zero, above zero) and its keys (bytes, field index)."""
    order = [root]
    index = {root.name: 0}
    tables: list[tuple[list, list]] = []
    while len(tables) < len(order):
        plan = order[len(tables)]
        descriptor = plan.descriptor
        fields: list[tuple] = []
        position: dict[str, int] = {}
        keys: list[tuple[bytes, int]] = []
        for key, (name, kind, repeated, detail) in plan.fields.items():
            if name not in position:
                field = descriptor.fields_by_name[name]
                child = -1
                if kind == MESSAGE:
                    if detail.name not in index:  # type: ignore[attr-defined]
                        index[detail.name] = len(order)  # type: ignore[attr-defined]
                        order.append(detail)  # type: ignore[arg-type]
                    child = index[detail.name]  # type: ignore[attr-defined]
                position[name] = len(fields)
                wire_kind = _wire_kind(kind, field)
                fields.append((field.number, wire_kind, repeated, child, *_magnitudes(kind, detail)))
            keys.append((key.encode(), position[name]))
        tables.append((fields, keys))
    return tables


def _wire_kind(kind: int, field: FieldDescriptor) -> int:
    if kind == INTEGER:
        return _INTEGER_WIRE[field.type]
    if kind == MESSAGE:
        return _MESSAGE
    return _SIMPLE.get(kind, _UNPLANNED)


def _magnitudes(kind: int, detail: object) -> tuple[int, int]:
    if kind != INTEGER:
        return 0, 0
    low, high = detail  # type: ignore[misc]
    return -low, high
