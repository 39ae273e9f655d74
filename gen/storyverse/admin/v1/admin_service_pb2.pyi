from google.api import annotations_pb2 as _annotations_pb2
from storyverse.common.v1 import rules_pb2 as _rules_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeleteUserDataRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class DeleteUserDataResponse(_message.Message):
    __slots__ = ("deleted", "audit_id", "user_hash", "state")
    class DeletedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    DELETED_FIELD_NUMBER: _ClassVar[int]
    AUDIT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_HASH_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    deleted: _containers.ScalarMap[str, int]
    audit_id: int
    user_hash: str
    state: str
    def __init__(self, deleted: _Optional[_Mapping[str, int]] = ..., audit_id: _Optional[int] = ..., user_hash: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class GetErasureStatusRequest(_message.Message):
    __slots__ = ("audit_id",)
    AUDIT_ID_FIELD_NUMBER: _ClassVar[int]
    audit_id: int
    def __init__(self, audit_id: _Optional[int] = ...) -> None: ...

class GetErasureStatusResponse(_message.Message):
    __slots__ = ("audit_id", "user_hash", "state", "pass_number", "requested_at", "completed_at", "deleted", "steps")
    class DeletedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    AUDIT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_HASH_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PASS_NUMBER_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    audit_id: int
    user_hash: str
    state: str
    pass_number: int
    requested_at: str
    completed_at: str
    deleted: _containers.ScalarMap[str, int]
    steps: _containers.RepeatedCompositeFieldContainer[ErasureStepStatus]
    def __init__(self, audit_id: _Optional[int] = ..., user_hash: _Optional[str] = ..., state: _Optional[str] = ..., pass_number: _Optional[int] = ..., requested_at: _Optional[str] = ..., completed_at: _Optional[str] = ..., deleted: _Optional[_Mapping[str, int]] = ..., steps: _Optional[_Iterable[_Union[ErasureStepStatus, _Mapping]]] = ...) -> None: ...

class ErasureStepStatus(_message.Message):
    __slots__ = ("step", "service", "store", "done", "attempts", "last_error", "removed", "next_attempt_at")
    STEP_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    STORE_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_AT_FIELD_NUMBER: _ClassVar[int]
    step: str
    service: str
    store: str
    done: bool
    attempts: int
    last_error: str
    removed: int
    next_attempt_at: str
    def __init__(self, step: _Optional[str] = ..., service: _Optional[str] = ..., store: _Optional[str] = ..., done: _Optional[bool] = ..., attempts: _Optional[int] = ..., last_error: _Optional[str] = ..., removed: _Optional[int] = ..., next_attempt_at: _Optional[str] = ...) -> None: ...
