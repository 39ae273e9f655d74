"""What a hot route's JSON body may hold, planned once from the request message's descriptor.

Per JSON key (proto name or json_name) of a message: the field, the kind of value it takes
and, for a nested message, that message's plan. Both transcoders of the hot routes read it:
fast_transcode.py (orjson + one constructor call) and wire_plan.py (the compiled
JSON -> wire bytes encoder), so they cover exactly the same kinds. Anything else is
UNPLANNED: a body using it goes to transcode.build_request.
"""

from __future__ import annotations

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from gateway.json_types import INTEGER_RANGES

_F = FieldDescriptor
STRING, BOOL, INTEGER, DOUBLE, MESSAGE, STRUCT, UNPLANNED = range(7)
# Integers beyond this are left to build_request (json_format's float conversion and errors).
EXACT_INT = 2**53


class Plan:
    """JSON key -> (field name, kind, repeated, detail) for one message type."""

    __slots__ = ("descriptor", "fields", "name")

    def __init__(self, descriptor: Descriptor, plans: dict[str, Plan]) -> None:
        plans[descriptor.full_name] = self
        self.descriptor = descriptor
        self.name = descriptor.full_name
        self.fields: dict[str, tuple[str, int, bool, object]] = {}
        real_oneofs = {o.name for o in descriptor.oneofs if not _synthetic(o)}
        for field in descriptor.fields:
            entry = (field.name, *_kind(field, real_oneofs, plans))
            self.fields[field.name] = entry
            self.fields.setdefault(field.json_name, entry)


def _synthetic(oneof) -> bool:  # an `optional` field's oneof
    return len(oneof.fields) == 1 and oneof.fields[0].has_presence and oneof.name.startswith("_")


def _kind(field: FieldDescriptor, real_oneofs: set[str], plans: dict[str, Plan]) -> tuple[int, bool, object]:
    repeated = field.is_repeated
    if field.containing_oneof is not None and field.containing_oneof.name in real_oneofs:
        return UNPLANNED, repeated, None
    kind = field.type
    if kind == _F.TYPE_STRING:
        return STRING, repeated, None
    if kind == _F.TYPE_BOOL:
        return BOOL, repeated, None
    if kind in INTEGER_RANGES:
        return INTEGER, repeated, INTEGER_RANGES[kind]
    if kind == _F.TYPE_DOUBLE:
        return DOUBLE, repeated, None
    if kind == _F.TYPE_MESSAGE:
        message = field.message_type
        if message.GetOptions().map_entry:
            return UNPLANNED, repeated, None
        if message.full_name == "google.protobuf.Struct":
            return (STRUCT, repeated, None) if not repeated else (UNPLANNED, repeated, None)
        if message.full_name.startswith("google."):
            return UNPLANNED, repeated, None
        plan = plans.get(message.full_name) or Plan(message, plans)
        return MESSAGE, repeated, plan
    return UNPLANNED, repeated, None  # float (json_format's own rounding), enum, bytes
