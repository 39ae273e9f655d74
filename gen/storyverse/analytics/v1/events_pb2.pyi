from google.protobuf import struct_pb2 as _struct_pb2
from storyverse.common.v1 import rules_pb2 as _rules_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Event(_message.Message):
    __slots__ = ("event_id", "user_id", "timestamp", "event_type", "properties", "session_id")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    user_id: str
    timestamp: str
    event_type: str
    properties: EventProperties
    session_id: str
    def __init__(self, event_id: _Optional[str] = ..., user_id: _Optional[str] = ..., timestamp: _Optional[str] = ..., event_type: _Optional[str] = ..., properties: _Optional[_Union[EventProperties, _Mapping]] = ..., session_id: _Optional[str] = ...) -> None: ...

class EventProperties(_message.Message):
    __slots__ = ("story_id", "universes", "characters", "theme", "moral_lesson", "creation_time", "device_type", "platform", "feature", "age_group", "page", "recommendation_type", "item_id", "position", "experiment_key", "variant", "error_code", "app_version", "duration", "model_version", "extras")
    STORY_ID_FIELD_NUMBER: _ClassVar[int]
    UNIVERSES_FIELD_NUMBER: _ClassVar[int]
    CHARACTERS_FIELD_NUMBER: _ClassVar[int]
    THEME_FIELD_NUMBER: _ClassVar[int]
    MORAL_LESSON_FIELD_NUMBER: _ClassVar[int]
    CREATION_TIME_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    AGE_GROUP_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_KEY_FIELD_NUMBER: _ClassVar[int]
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    APP_VERSION_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    EXTRAS_FIELD_NUMBER: _ClassVar[int]
    story_id: str
    universes: _containers.RepeatedScalarFieldContainer[str]
    characters: _containers.RepeatedScalarFieldContainer[str]
    theme: str
    moral_lesson: str
    creation_time: float
    device_type: str
    platform: str
    feature: str
    age_group: str
    page: str
    recommendation_type: str
    item_id: str
    position: int
    experiment_key: str
    variant: str
    error_code: str
    app_version: str
    duration: float
    model_version: str
    extras: _struct_pb2.Struct
    def __init__(self, story_id: _Optional[str] = ..., universes: _Optional[_Iterable[str]] = ..., characters: _Optional[_Iterable[str]] = ..., theme: _Optional[str] = ..., moral_lesson: _Optional[str] = ..., creation_time: _Optional[float] = ..., device_type: _Optional[str] = ..., platform: _Optional[str] = ..., feature: _Optional[str] = ..., age_group: _Optional[str] = ..., page: _Optional[str] = ..., recommendation_type: _Optional[str] = ..., item_id: _Optional[str] = ..., position: _Optional[int] = ..., experiment_key: _Optional[str] = ..., variant: _Optional[str] = ..., error_code: _Optional[str] = ..., app_version: _Optional[str] = ..., duration: _Optional[float] = ..., model_version: _Optional[str] = ..., extras: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...
