from google.api import annotations_pb2 as _annotations_pb2
from storyverse.common.v1 import rules_pb2 as _rules_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RecommendationContext(_message.Message):
    __slots__ = ("current_story_id", "selected_universes", "selected_characters", "age_group", "previous_themes", "device_type")
    CURRENT_STORY_ID_FIELD_NUMBER: _ClassVar[int]
    SELECTED_UNIVERSES_FIELD_NUMBER: _ClassVar[int]
    SELECTED_CHARACTERS_FIELD_NUMBER: _ClassVar[int]
    AGE_GROUP_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_THEMES_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    current_story_id: str
    selected_universes: _containers.RepeatedScalarFieldContainer[str]
    selected_characters: _containers.RepeatedScalarFieldContainer[str]
    age_group: str
    previous_themes: _containers.RepeatedScalarFieldContainer[str]
    device_type: str
    def __init__(self, current_story_id: _Optional[str] = ..., selected_universes: _Optional[_Iterable[str]] = ..., selected_characters: _Optional[_Iterable[str]] = ..., age_group: _Optional[str] = ..., previous_themes: _Optional[_Iterable[str]] = ..., device_type: _Optional[str] = ...) -> None: ...

class RecommendRequest(_message.Message):
    __slots__ = ("user_id", "context", "recommendation_types", "limit")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDATION_TYPES_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    context: RecommendationContext
    recommendation_types: _containers.RepeatedScalarFieldContainer[str]
    limit: int
    def __init__(self, user_id: _Optional[str] = ..., context: _Optional[_Union[RecommendationContext, _Mapping]] = ..., recommendation_types: _Optional[_Iterable[str]] = ..., limit: _Optional[int] = ...) -> None: ...

class RecommendResponse(_message.Message):
    __slots__ = ("lists",)
    LISTS_FIELD_NUMBER: _ClassVar[int]
    lists: _containers.RepeatedCompositeFieldContainer[RecommendationList]
    def __init__(self, lists: _Optional[_Iterable[_Union[RecommendationList, _Mapping]]] = ...) -> None: ...

class ListRecommendationsRequest(_message.Message):
    __slots__ = ("kind", "user_id", "current_story_id", "selected_universes", "selected_characters", "age_group", "previous_themes", "device_type", "limit")
    KIND_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENT_STORY_ID_FIELD_NUMBER: _ClassVar[int]
    SELECTED_UNIVERSES_FIELD_NUMBER: _ClassVar[int]
    SELECTED_CHARACTERS_FIELD_NUMBER: _ClassVar[int]
    AGE_GROUP_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_THEMES_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    kind: str
    user_id: str
    current_story_id: str
    selected_universes: _containers.RepeatedScalarFieldContainer[str]
    selected_characters: _containers.RepeatedScalarFieldContainer[str]
    age_group: str
    previous_themes: _containers.RepeatedScalarFieldContainer[str]
    device_type: str
    limit: int
    def __init__(self, kind: _Optional[str] = ..., user_id: _Optional[str] = ..., current_story_id: _Optional[str] = ..., selected_universes: _Optional[_Iterable[str]] = ..., selected_characters: _Optional[_Iterable[str]] = ..., age_group: _Optional[str] = ..., previous_themes: _Optional[_Iterable[str]] = ..., device_type: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListRecommendationsResponse(_message.Message):
    __slots__ = ("list",)
    LIST_FIELD_NUMBER: _ClassVar[int]
    list: RecommendationList
    def __init__(self, list: _Optional[_Union[RecommendationList, _Mapping]] = ...) -> None: ...

class RecommendationList(_message.Message):
    __slots__ = ("recommendation_type", "items", "model_version", "variant", "request_id")
    RECOMMENDATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    recommendation_type: str
    items: _containers.RepeatedCompositeFieldContainer[RecommendedItem]
    model_version: str
    variant: str
    request_id: str
    def __init__(self, recommendation_type: _Optional[str] = ..., items: _Optional[_Iterable[_Union[RecommendedItem, _Mapping]]] = ..., model_version: _Optional[str] = ..., variant: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class RecommendedItem(_message.Message):
    __slots__ = ("id", "name", "score", "reason", "universes", "min_age", "max_age")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    UNIVERSES_FIELD_NUMBER: _ClassVar[int]
    MIN_AGE_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    score: float
    reason: str
    universes: _containers.RepeatedScalarFieldContainer[str]
    min_age: int
    max_age: int
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., score: _Optional[float] = ..., reason: _Optional[str] = ..., universes: _Optional[_Iterable[str]] = ..., min_age: _Optional[int] = ..., max_age: _Optional[int] = ...) -> None: ...
