from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor
RULES_FIELD_NUMBER: _ClassVar[int]
rules: _descriptor.FieldDescriptor

class FieldRules(_message.Message):
    __slots__ = ("required", "min_len", "max_len", "pattern", "gte", "lte", "max_items", "rfc3339", "date", "item_max_len", "item_pattern", "item_in", "per_item")
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    MIN_LEN_FIELD_NUMBER: _ClassVar[int]
    MAX_LEN_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    IN_FIELD_NUMBER: _ClassVar[int]
    GTE_FIELD_NUMBER: _ClassVar[int]
    LTE_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    RFC3339_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    ITEM_MAX_LEN_FIELD_NUMBER: _ClassVar[int]
    ITEM_PATTERN_FIELD_NUMBER: _ClassVar[int]
    ITEM_IN_FIELD_NUMBER: _ClassVar[int]
    PER_ITEM_FIELD_NUMBER: _ClassVar[int]
    required: bool
    min_len: int
    max_len: int
    pattern: str
    gte: float
    lte: float
    max_items: int
    rfc3339: bool
    date: bool
    item_max_len: int
    item_pattern: str
    item_in: _containers.RepeatedScalarFieldContainer[str]
    per_item: bool
    def __init__(self, required: _Optional[bool] = ..., min_len: _Optional[int] = ..., max_len: _Optional[int] = ..., pattern: _Optional[str] = ..., gte: _Optional[float] = ..., lte: _Optional[float] = ..., max_items: _Optional[int] = ..., rfc3339: _Optional[bool] = ..., date: _Optional[bool] = ..., item_max_len: _Optional[int] = ..., item_pattern: _Optional[str] = ..., item_in: _Optional[_Iterable[str]] = ..., per_item: _Optional[bool] = ..., **kwargs) -> None: ...
