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
    __slots__ = ("user_id", "context", "recommendation_types", "limit", "types")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDATION_TYPES_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    context: RecommendationContext
    recommendation_types: _containers.RepeatedScalarFieldContainer[str]
    limit: int
    types: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, user_id: _Optional[str] = ..., context: _Optional[_Union[RecommendationContext, _Mapping]] = ..., recommendation_types: _Optional[_Iterable[str]] = ..., limit: _Optional[int] = ..., types: _Optional[_Iterable[str]] = ...) -> None: ...

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
    __slots__ = ("recommendation_type", "items", "model_version", "variant", "request_id", "experiment_key")
    RECOMMENDATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_KEY_FIELD_NUMBER: _ClassVar[int]
    recommendation_type: str
    items: _containers.RepeatedCompositeFieldContainer[RecommendedItem]
    model_version: str
    variant: str
    request_id: str
    experiment_key: str
    def __init__(self, recommendation_type: _Optional[str] = ..., items: _Optional[_Iterable[_Union[RecommendedItem, _Mapping]]] = ..., model_version: _Optional[str] = ..., variant: _Optional[str] = ..., request_id: _Optional[str] = ..., experiment_key: _Optional[str] = ...) -> None: ...

class RecommendedItem(_message.Message):
    __slots__ = ("id", "name", "score", "reason", "universes", "min_age", "max_age", "kind")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    UNIVERSES_FIELD_NUMBER: _ClassVar[int]
    MIN_AGE_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    score: float
    reason: str
    universes: _containers.RepeatedScalarFieldContainer[str]
    min_age: int
    max_age: int
    kind: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., score: _Optional[float] = ..., reason: _Optional[str] = ..., universes: _Optional[_Iterable[str]] = ..., min_age: _Optional[int] = ..., max_age: _Optional[int] = ..., kind: _Optional[str] = ...) -> None: ...

class CatalogItem(_message.Message):
    __slots__ = ("kind", "id", "name", "min_age", "max_age", "tags", "universe", "universes", "characters", "theme", "moral_lesson", "creator_id", "hidden", "hidden_reason", "source", "updated_at")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MIN_AGE_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    UNIVERSE_FIELD_NUMBER: _ClassVar[int]
    UNIVERSES_FIELD_NUMBER: _ClassVar[int]
    CHARACTERS_FIELD_NUMBER: _ClassVar[int]
    THEME_FIELD_NUMBER: _ClassVar[int]
    MORAL_LESSON_FIELD_NUMBER: _ClassVar[int]
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    HIDDEN_FIELD_NUMBER: _ClassVar[int]
    HIDDEN_REASON_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    kind: str
    id: str
    name: str
    min_age: int
    max_age: int
    tags: _containers.RepeatedScalarFieldContainer[str]
    universe: str
    universes: _containers.RepeatedScalarFieldContainer[str]
    characters: _containers.RepeatedScalarFieldContainer[str]
    theme: str
    moral_lesson: str
    creator_id: str
    hidden: bool
    hidden_reason: str
    source: str
    updated_at: str
    def __init__(self, kind: _Optional[str] = ..., id: _Optional[str] = ..., name: _Optional[str] = ..., min_age: _Optional[int] = ..., max_age: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ..., universe: _Optional[str] = ..., universes: _Optional[_Iterable[str]] = ..., characters: _Optional[_Iterable[str]] = ..., theme: _Optional[str] = ..., moral_lesson: _Optional[str] = ..., creator_id: _Optional[str] = ..., hidden: _Optional[bool] = ..., hidden_reason: _Optional[str] = ..., source: _Optional[str] = ..., updated_at: _Optional[str] = ...) -> None: ...

class UpsertCatalogItemRequest(_message.Message):
    __slots__ = ("kind", "id", "name", "min_age", "max_age", "tags", "universe", "universes", "characters", "theme", "moral_lesson", "creator_id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MIN_AGE_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    UNIVERSE_FIELD_NUMBER: _ClassVar[int]
    UNIVERSES_FIELD_NUMBER: _ClassVar[int]
    CHARACTERS_FIELD_NUMBER: _ClassVar[int]
    THEME_FIELD_NUMBER: _ClassVar[int]
    MORAL_LESSON_FIELD_NUMBER: _ClassVar[int]
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    kind: str
    id: str
    name: str
    min_age: int
    max_age: int
    tags: _containers.RepeatedScalarFieldContainer[str]
    universe: str
    universes: _containers.RepeatedScalarFieldContainer[str]
    characters: _containers.RepeatedScalarFieldContainer[str]
    theme: str
    moral_lesson: str
    creator_id: str
    def __init__(self, kind: _Optional[str] = ..., id: _Optional[str] = ..., name: _Optional[str] = ..., min_age: _Optional[int] = ..., max_age: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ..., universe: _Optional[str] = ..., universes: _Optional[_Iterable[str]] = ..., characters: _Optional[_Iterable[str]] = ..., theme: _Optional[str] = ..., moral_lesson: _Optional[str] = ..., creator_id: _Optional[str] = ...) -> None: ...

class UpsertCatalogItemResponse(_message.Message):
    __slots__ = ("item", "created")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    item: CatalogItem
    created: bool
    def __init__(self, item: _Optional[_Union[CatalogItem, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class GetCatalogItemRequest(_message.Message):
    __slots__ = ("kind", "id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    kind: str
    id: str
    def __init__(self, kind: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class GetCatalogItemResponse(_message.Message):
    __slots__ = ("item",)
    ITEM_FIELD_NUMBER: _ClassVar[int]
    item: CatalogItem
    def __init__(self, item: _Optional[_Union[CatalogItem, _Mapping]] = ...) -> None: ...

class ListCatalogItemsRequest(_message.Message):
    __slots__ = ("kind", "age_group", "include_hidden", "page_size", "page_token")
    KIND_FIELD_NUMBER: _ClassVar[int]
    AGE_GROUP_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_HIDDEN_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    kind: str
    age_group: str
    include_hidden: bool
    page_size: int
    page_token: str
    def __init__(self, kind: _Optional[str] = ..., age_group: _Optional[str] = ..., include_hidden: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCatalogItemsResponse(_message.Message):
    __slots__ = ("items", "next_page_token")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[CatalogItem]
    next_page_token: str
    def __init__(self, items: _Optional[_Iterable[_Union[CatalogItem, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class HideCatalogItemRequest(_message.Message):
    __slots__ = ("kind", "id", "reason")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    kind: str
    id: str
    reason: str
    def __init__(self, kind: _Optional[str] = ..., id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class HideCatalogItemResponse(_message.Message):
    __slots__ = ("item",)
    ITEM_FIELD_NUMBER: _ClassVar[int]
    item: CatalogItem
    def __init__(self, item: _Optional[_Union[CatalogItem, _Mapping]] = ...) -> None: ...

class UnhideCatalogItemRequest(_message.Message):
    __slots__ = ("kind", "id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    kind: str
    id: str
    def __init__(self, kind: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class UnhideCatalogItemResponse(_message.Message):
    __slots__ = ("item",)
    ITEM_FIELD_NUMBER: _ClassVar[int]
    item: CatalogItem
    def __init__(self, item: _Optional[_Union[CatalogItem, _Mapping]] = ...) -> None: ...

class ModelVersion(_message.Message):
    __slots__ = ("version", "created_at", "active", "metrics", "description")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    version: str
    created_at: str
    active: bool
    metrics: _containers.ScalarMap[str, float]
    description: str
    def __init__(self, version: _Optional[str] = ..., created_at: _Optional[str] = ..., active: _Optional[bool] = ..., metrics: _Optional[_Mapping[str, float]] = ..., description: _Optional[str] = ...) -> None: ...

class ListModelVersionsRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class ListModelVersionsResponse(_message.Message):
    __slots__ = ("versions", "serving_version")
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    SERVING_VERSION_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[ModelVersion]
    serving_version: str
    def __init__(self, versions: _Optional[_Iterable[_Union[ModelVersion, _Mapping]]] = ..., serving_version: _Optional[str] = ...) -> None: ...

class ActivateModelVersionRequest(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: str
    def __init__(self, version: _Optional[str] = ...) -> None: ...

class ActivateModelVersionResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: ModelVersion
    def __init__(self, version: _Optional[_Union[ModelVersion, _Mapping]] = ...) -> None: ...

class RollbackModelVersionRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RollbackModelVersionResponse(_message.Message):
    __slots__ = ("version", "previous_version")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VERSION_FIELD_NUMBER: _ClassVar[int]
    version: ModelVersion
    previous_version: str
    def __init__(self, version: _Optional[_Union[ModelVersion, _Mapping]] = ..., previous_version: _Optional[str] = ...) -> None: ...

class Goal(_message.Message):
    __slots__ = ("id", "name", "kind")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    kind: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[str] = ...) -> None: ...

class SetGoalsRequest(_message.Message):
    __slots__ = ("user_id", "goals")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GOALS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    goals: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, user_id: _Optional[str] = ..., goals: _Optional[_Iterable[str]] = ...) -> None: ...

class SetGoalsResponse(_message.Message):
    __slots__ = ("goals",)
    GOALS_FIELD_NUMBER: _ClassVar[int]
    goals: _containers.RepeatedCompositeFieldContainer[Goal]
    def __init__(self, goals: _Optional[_Iterable[_Union[Goal, _Mapping]]] = ...) -> None: ...

class ListGoalsRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class ListGoalsResponse(_message.Message):
    __slots__ = ("goals", "available")
    GOALS_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    goals: _containers.RepeatedCompositeFieldContainer[Goal]
    available: _containers.RepeatedCompositeFieldContainer[Goal]
    def __init__(self, goals: _Optional[_Iterable[_Union[Goal, _Mapping]]] = ..., available: _Optional[_Iterable[_Union[Goal, _Mapping]]] = ...) -> None: ...

class ClearGoalsRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class ClearGoalsResponse(_message.Message):
    __slots__ = ("cleared",)
    CLEARED_FIELD_NUMBER: _ClassVar[int]
    cleared: int
    def __init__(self, cleared: _Optional[int] = ...) -> None: ...

class ListFamilyRecommendationsRequest(_message.Message):
    __slots__ = ("user_id", "age_group", "limit")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    AGE_GROUP_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    age_group: str
    limit: int
    def __init__(self, user_id: _Optional[str] = ..., age_group: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListFamilyRecommendationsResponse(_message.Message):
    __slots__ = ("list",)
    LIST_FIELD_NUMBER: _ClassVar[int]
    list: RecommendationList
    def __init__(self, list: _Optional[_Union[RecommendationList, _Mapping]] = ...) -> None: ...

class GetPersonalizationOverviewRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GoalCount(_message.Message):
    __slots__ = ("goal", "children")
    GOAL_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    goal: Goal
    children: int
    def __init__(self, goal: _Optional[_Union[Goal, _Mapping]] = ..., children: _Optional[int] = ...) -> None: ...

class GetPersonalizationOverviewResponse(_message.Message):
    __slots__ = ("children_with_goals", "goals", "shared_stories", "family_stories")
    CHILDREN_WITH_GOALS_FIELD_NUMBER: _ClassVar[int]
    GOALS_FIELD_NUMBER: _ClassVar[int]
    SHARED_STORIES_FIELD_NUMBER: _ClassVar[int]
    FAMILY_STORIES_FIELD_NUMBER: _ClassVar[int]
    children_with_goals: int
    goals: _containers.RepeatedCompositeFieldContainer[GoalCount]
    shared_stories: int
    family_stories: int
    def __init__(self, children_with_goals: _Optional[int] = ..., goals: _Optional[_Iterable[_Union[GoalCount, _Mapping]]] = ..., shared_stories: _Optional[int] = ..., family_stories: _Optional[int] = ...) -> None: ...
