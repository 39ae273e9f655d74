from google.api import annotations_pb2 as _annotations_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from storyverse.analytics.v1 import events_pb2 as _events_pb2
from storyverse.common.v1 import rules_pb2 as _rules_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RecordEventRequest(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _events_pb2.Event
    def __init__(self, event: _Optional[_Union[_events_pb2.Event, _Mapping]] = ...) -> None: ...

class RecordEventResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: IngestResult
    def __init__(self, result: _Optional[_Union[IngestResult, _Mapping]] = ...) -> None: ...

class RecordEventsRequest(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_events_pb2.Event]
    def __init__(self, events: _Optional[_Iterable[_Union[_events_pb2.Event, _Mapping]]] = ...) -> None: ...

class RecordEventsResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: IngestResult
    def __init__(self, result: _Optional[_Union[IngestResult, _Mapping]] = ...) -> None: ...

class IngestResult(_message.Message):
    __slots__ = ("accepted", "duplicates", "rejected", "rejections", "duplicate_indexes")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    REJECTIONS_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_INDEXES_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    duplicates: int
    rejected: int
    rejections: _containers.RepeatedCompositeFieldContainer[EventRejection]
    duplicate_indexes: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, accepted: _Optional[int] = ..., duplicates: _Optional[int] = ..., rejected: _Optional[int] = ..., rejections: _Optional[_Iterable[_Union[EventRejection, _Mapping]]] = ..., duplicate_indexes: _Optional[_Iterable[int]] = ...) -> None: ...

class EventRejection(_message.Message):
    __slots__ = ("index", "event_id", "field", "reason")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    index: int
    event_id: str
    field: str
    reason: str
    def __init__(self, index: _Optional[int] = ..., event_id: _Optional[str] = ..., field: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class GetDashboardRequest(_message.Message):
    __slots__ = ("start_date", "end_date", "age_group", "platform", "device_type", "realtime_minutes")
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    AGE_GROUP_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    REALTIME_MINUTES_FIELD_NUMBER: _ClassVar[int]
    start_date: str
    end_date: str
    age_group: str
    platform: str
    device_type: str
    realtime_minutes: int
    def __init__(self, start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., age_group: _Optional[str] = ..., platform: _Optional[str] = ..., device_type: _Optional[str] = ..., realtime_minutes: _Optional[int] = ...) -> None: ...

class GetDashboardResponse(_message.Message):
    __slots__ = ("start_date", "end_date", "active_users", "events_by_type", "story_creations", "top_universes", "top_characters", "top_themes", "top_moral_lessons", "top_universe_pairs", "creation_time", "device_split", "platform_split", "ingestion", "running_experiments", "realtime", "generated_at", "source", "churn_risk")
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_USERS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_BY_TYPE_FIELD_NUMBER: _ClassVar[int]
    STORY_CREATIONS_FIELD_NUMBER: _ClassVar[int]
    TOP_UNIVERSES_FIELD_NUMBER: _ClassVar[int]
    TOP_CHARACTERS_FIELD_NUMBER: _ClassVar[int]
    TOP_THEMES_FIELD_NUMBER: _ClassVar[int]
    TOP_MORAL_LESSONS_FIELD_NUMBER: _ClassVar[int]
    TOP_UNIVERSE_PAIRS_FIELD_NUMBER: _ClassVar[int]
    CREATION_TIME_FIELD_NUMBER: _ClassVar[int]
    DEVICE_SPLIT_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_SPLIT_FIELD_NUMBER: _ClassVar[int]
    INGESTION_FIELD_NUMBER: _ClassVar[int]
    RUNNING_EXPERIMENTS_FIELD_NUMBER: _ClassVar[int]
    REALTIME_FIELD_NUMBER: _ClassVar[int]
    GENERATED_AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CHURN_RISK_FIELD_NUMBER: _ClassVar[int]
    start_date: str
    end_date: str
    active_users: ActiveUsers
    events_by_type: _containers.RepeatedCompositeFieldContainer[Series]
    story_creations: Series
    top_universes: _containers.RepeatedCompositeFieldContainer[RankedItem]
    top_characters: _containers.RepeatedCompositeFieldContainer[RankedItem]
    top_themes: _containers.RepeatedCompositeFieldContainer[RankedItem]
    top_moral_lessons: _containers.RepeatedCompositeFieldContainer[RankedItem]
    top_universe_pairs: _containers.RepeatedCompositeFieldContainer[RankedItem]
    creation_time: Distribution
    device_split: _containers.RepeatedCompositeFieldContainer[RankedItem]
    platform_split: _containers.RepeatedCompositeFieldContainer[RankedItem]
    ingestion: IngestionHealth
    running_experiments: _containers.RepeatedCompositeFieldContainer[RunningExperiment]
    realtime: Realtime
    generated_at: str
    source: str
    churn_risk: ChurnRisk
    def __init__(self, start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., active_users: _Optional[_Union[ActiveUsers, _Mapping]] = ..., events_by_type: _Optional[_Iterable[_Union[Series, _Mapping]]] = ..., story_creations: _Optional[_Union[Series, _Mapping]] = ..., top_universes: _Optional[_Iterable[_Union[RankedItem, _Mapping]]] = ..., top_characters: _Optional[_Iterable[_Union[RankedItem, _Mapping]]] = ..., top_themes: _Optional[_Iterable[_Union[RankedItem, _Mapping]]] = ..., top_moral_lessons: _Optional[_Iterable[_Union[RankedItem, _Mapping]]] = ..., top_universe_pairs: _Optional[_Iterable[_Union[RankedItem, _Mapping]]] = ..., creation_time: _Optional[_Union[Distribution, _Mapping]] = ..., device_split: _Optional[_Iterable[_Union[RankedItem, _Mapping]]] = ..., platform_split: _Optional[_Iterable[_Union[RankedItem, _Mapping]]] = ..., ingestion: _Optional[_Union[IngestionHealth, _Mapping]] = ..., running_experiments: _Optional[_Iterable[_Union[RunningExperiment, _Mapping]]] = ..., realtime: _Optional[_Union[Realtime, _Mapping]] = ..., generated_at: _Optional[str] = ..., source: _Optional[str] = ..., churn_risk: _Optional[_Union[ChurnRisk, _Mapping]] = ...) -> None: ...

class ChurnRisk(_message.Message):
    __slots__ = ("active_children", "at_risk", "at_risk_share", "mean_p_return_7d", "mean_p_return_28d", "at_risk_below", "trained_at", "at_risk_by_age_group")
    ACTIVE_CHILDREN_FIELD_NUMBER: _ClassVar[int]
    AT_RISK_FIELD_NUMBER: _ClassVar[int]
    AT_RISK_SHARE_FIELD_NUMBER: _ClassVar[int]
    MEAN_P_RETURN_7D_FIELD_NUMBER: _ClassVar[int]
    MEAN_P_RETURN_28D_FIELD_NUMBER: _ClassVar[int]
    AT_RISK_BELOW_FIELD_NUMBER: _ClassVar[int]
    TRAINED_AT_FIELD_NUMBER: _ClassVar[int]
    AT_RISK_BY_AGE_GROUP_FIELD_NUMBER: _ClassVar[int]
    active_children: int
    at_risk: int
    at_risk_share: float
    mean_p_return_7d: float
    mean_p_return_28d: float
    at_risk_below: float
    trained_at: str
    at_risk_by_age_group: _containers.RepeatedCompositeFieldContainer[RankedItem]
    def __init__(self, active_children: _Optional[int] = ..., at_risk: _Optional[int] = ..., at_risk_share: _Optional[float] = ..., mean_p_return_7d: _Optional[float] = ..., mean_p_return_28d: _Optional[float] = ..., at_risk_below: _Optional[float] = ..., trained_at: _Optional[str] = ..., at_risk_by_age_group: _Optional[_Iterable[_Union[RankedItem, _Mapping]]] = ...) -> None: ...

class ActiveUsers(_message.Message):
    __slots__ = ("dau", "wau", "mau", "stickiness", "daily")
    DAU_FIELD_NUMBER: _ClassVar[int]
    WAU_FIELD_NUMBER: _ClassVar[int]
    MAU_FIELD_NUMBER: _ClassVar[int]
    STICKINESS_FIELD_NUMBER: _ClassVar[int]
    DAILY_FIELD_NUMBER: _ClassVar[int]
    dau: int
    wau: int
    mau: int
    stickiness: float
    daily: Series
    def __init__(self, dau: _Optional[int] = ..., wau: _Optional[int] = ..., mau: _Optional[int] = ..., stickiness: _Optional[float] = ..., daily: _Optional[_Union[Series, _Mapping]] = ...) -> None: ...

class Series(_message.Message):
    __slots__ = ("name", "points")
    NAME_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    points: _containers.RepeatedCompositeFieldContainer[Point]
    def __init__(self, name: _Optional[str] = ..., points: _Optional[_Iterable[_Union[Point, _Mapping]]] = ...) -> None: ...

class Point(_message.Message):
    __slots__ = ("t", "value")
    T_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    t: str
    value: float
    def __init__(self, t: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...

class RankedItem(_message.Message):
    __slots__ = ("key", "value", "share")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SHARE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: float
    share: float
    def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ..., share: _Optional[float] = ...) -> None: ...

class Distribution(_message.Message):
    __slots__ = ("count", "mean", "median", "p90")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_FIELD_NUMBER: _ClassVar[int]
    P90_FIELD_NUMBER: _ClassVar[int]
    count: int
    mean: float
    median: float
    p90: float
    def __init__(self, count: _Optional[int] = ..., mean: _Optional[float] = ..., median: _Optional[float] = ..., p90: _Optional[float] = ...) -> None: ...

class IngestionHealth(_message.Message):
    __slots__ = ("events_per_second", "processing_lag_p50_seconds", "processing_lag_p99_seconds", "failed_events", "total_events")
    EVENTS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_LAG_P50_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_LAG_P99_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FAILED_EVENTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_EVENTS_FIELD_NUMBER: _ClassVar[int]
    events_per_second: float
    processing_lag_p50_seconds: float
    processing_lag_p99_seconds: float
    failed_events: int
    total_events: int
    def __init__(self, events_per_second: _Optional[float] = ..., processing_lag_p50_seconds: _Optional[float] = ..., processing_lag_p99_seconds: _Optional[float] = ..., failed_events: _Optional[int] = ..., total_events: _Optional[int] = ...) -> None: ...

class RunningExperiment(_message.Message):
    __slots__ = ("key", "description", "variants", "started_at", "exposed_users")
    KEY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VARIANTS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPOSED_USERS_FIELD_NUMBER: _ClassVar[int]
    key: str
    description: str
    variants: _containers.RepeatedScalarFieldContainer[str]
    started_at: str
    exposed_users: int
    def __init__(self, key: _Optional[str] = ..., description: _Optional[str] = ..., variants: _Optional[_Iterable[str]] = ..., started_at: _Optional[str] = ..., exposed_users: _Optional[int] = ...) -> None: ...

class Realtime(_message.Message):
    __slots__ = ("window_minutes", "events", "active_users", "events_per_minute")
    WINDOW_MINUTES_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_USERS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    window_minutes: int
    events: int
    active_users: int
    events_per_minute: Series
    def __init__(self, window_minutes: _Optional[int] = ..., events: _Optional[int] = ..., active_users: _Optional[int] = ..., events_per_minute: _Optional[_Union[Series, _Mapping]] = ...) -> None: ...

class GetRecommendationClickThroughRequest(_message.Message):
    __slots__ = ("start_date", "end_date", "age_group", "platform", "device_type")
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    AGE_GROUP_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    start_date: str
    end_date: str
    age_group: str
    platform: str
    device_type: str
    def __init__(self, start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., age_group: _Optional[str] = ..., platform: _Optional[str] = ..., device_type: _Optional[str] = ...) -> None: ...

class GetRecommendationClickThroughResponse(_message.Message):
    __slots__ = ("start_date", "end_date", "total", "by_type", "by_model_version", "by_model_version_and_type", "generated_at", "source")
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    BY_TYPE_FIELD_NUMBER: _ClassVar[int]
    BY_MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    BY_MODEL_VERSION_AND_TYPE_FIELD_NUMBER: _ClassVar[int]
    GENERATED_AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    start_date: str
    end_date: str
    total: ClickThrough
    by_type: _containers.RepeatedCompositeFieldContainer[ClickThrough]
    by_model_version: _containers.RepeatedCompositeFieldContainer[ClickThrough]
    by_model_version_and_type: _containers.RepeatedCompositeFieldContainer[ClickThrough]
    generated_at: str
    source: str
    def __init__(self, start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., total: _Optional[_Union[ClickThrough, _Mapping]] = ..., by_type: _Optional[_Iterable[_Union[ClickThrough, _Mapping]]] = ..., by_model_version: _Optional[_Iterable[_Union[ClickThrough, _Mapping]]] = ..., by_model_version_and_type: _Optional[_Iterable[_Union[ClickThrough, _Mapping]]] = ..., generated_at: _Optional[str] = ..., source: _Optional[str] = ...) -> None: ...

class ClickThrough(_message.Message):
    __slots__ = ("recommendation_type", "model_version", "shown", "clicked", "click_through_rate")
    RECOMMENDATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SHOWN_FIELD_NUMBER: _ClassVar[int]
    CLICKED_FIELD_NUMBER: _ClassVar[int]
    CLICK_THROUGH_RATE_FIELD_NUMBER: _ClassVar[int]
    recommendation_type: str
    model_version: str
    shown: int
    clicked: int
    click_through_rate: float
    def __init__(self, recommendation_type: _Optional[str] = ..., model_version: _Optional[str] = ..., shown: _Optional[int] = ..., clicked: _Optional[int] = ..., click_through_rate: _Optional[float] = ...) -> None: ...

class GetReportRequest(_message.Message):
    __slots__ = ("report_type", "start_date", "end_date", "granularity", "age_group", "platform", "device_type", "breakdown", "steps", "conversion_window_hours", "funnel_order", "periods", "start_event", "return_event", "experiment_key")
    REPORT_TYPE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    GRANULARITY_FIELD_NUMBER: _ClassVar[int]
    AGE_GROUP_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    BREAKDOWN_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    CONVERSION_WINDOW_HOURS_FIELD_NUMBER: _ClassVar[int]
    FUNNEL_ORDER_FIELD_NUMBER: _ClassVar[int]
    PERIODS_FIELD_NUMBER: _ClassVar[int]
    START_EVENT_FIELD_NUMBER: _ClassVar[int]
    RETURN_EVENT_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_KEY_FIELD_NUMBER: _ClassVar[int]
    report_type: str
    start_date: str
    end_date: str
    granularity: str
    age_group: str
    platform: str
    device_type: str
    breakdown: str
    steps: _containers.RepeatedScalarFieldContainer[str]
    conversion_window_hours: int
    funnel_order: str
    periods: int
    start_event: str
    return_event: str
    experiment_key: str
    def __init__(self, report_type: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., granularity: _Optional[str] = ..., age_group: _Optional[str] = ..., platform: _Optional[str] = ..., device_type: _Optional[str] = ..., breakdown: _Optional[str] = ..., steps: _Optional[_Iterable[str]] = ..., conversion_window_hours: _Optional[int] = ..., funnel_order: _Optional[str] = ..., periods: _Optional[int] = ..., start_event: _Optional[str] = ..., return_event: _Optional[str] = ..., experiment_key: _Optional[str] = ...) -> None: ...

class GetReportResponse(_message.Message):
    __slots__ = ("report_type", "start_date", "end_date", "tables", "summary", "source", "generated_at")
    REPORT_TYPE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    TABLES_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    GENERATED_AT_FIELD_NUMBER: _ClassVar[int]
    report_type: str
    start_date: str
    end_date: str
    tables: _containers.RepeatedCompositeFieldContainer[ReportTable]
    summary: _struct_pb2.Struct
    source: str
    generated_at: str
    def __init__(self, report_type: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., tables: _Optional[_Iterable[_Union[ReportTable, _Mapping]]] = ..., summary: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., source: _Optional[str] = ..., generated_at: _Optional[str] = ...) -> None: ...

class ReportTable(_message.Message):
    __slots__ = ("name", "columns", "rows")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    name: str
    columns: _containers.RepeatedScalarFieldContainer[str]
    rows: _containers.RepeatedCompositeFieldContainer[_struct_pb2.ListValue]
    def __init__(self, name: _Optional[str] = ..., columns: _Optional[_Iterable[str]] = ..., rows: _Optional[_Iterable[_Union[_struct_pb2.ListValue, _Mapping]]] = ...) -> None: ...

class ExportReportRequest(_message.Message):
    __slots__ = ("report_type", "start_date", "end_date", "granularity", "age_group", "platform", "device_type", "breakdown", "steps", "conversion_window_hours", "funnel_order", "periods", "start_event", "return_event", "experiment_key")
    REPORT_TYPE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    GRANULARITY_FIELD_NUMBER: _ClassVar[int]
    AGE_GROUP_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    BREAKDOWN_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    CONVERSION_WINDOW_HOURS_FIELD_NUMBER: _ClassVar[int]
    FUNNEL_ORDER_FIELD_NUMBER: _ClassVar[int]
    PERIODS_FIELD_NUMBER: _ClassVar[int]
    START_EVENT_FIELD_NUMBER: _ClassVar[int]
    RETURN_EVENT_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_KEY_FIELD_NUMBER: _ClassVar[int]
    report_type: str
    start_date: str
    end_date: str
    granularity: str
    age_group: str
    platform: str
    device_type: str
    breakdown: str
    steps: _containers.RepeatedScalarFieldContainer[str]
    conversion_window_hours: int
    funnel_order: str
    periods: int
    start_event: str
    return_event: str
    experiment_key: str
    def __init__(self, report_type: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., granularity: _Optional[str] = ..., age_group: _Optional[str] = ..., platform: _Optional[str] = ..., device_type: _Optional[str] = ..., breakdown: _Optional[str] = ..., steps: _Optional[_Iterable[str]] = ..., conversion_window_hours: _Optional[int] = ..., funnel_order: _Optional[str] = ..., periods: _Optional[int] = ..., start_event: _Optional[str] = ..., return_event: _Optional[str] = ..., experiment_key: _Optional[str] = ...) -> None: ...

class ExportReportResponse(_message.Message):
    __slots__ = ("body",)
    BODY_FIELD_NUMBER: _ClassVar[int]
    body: _httpbody_pb2.HttpBody
    def __init__(self, body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...
