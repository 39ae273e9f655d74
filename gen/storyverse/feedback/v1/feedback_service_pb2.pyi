from google.api import annotations_pb2 as _annotations_pb2
from storyverse.common.v1 import rules_pb2 as _rules_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FeedbackEntry(_message.Message):
    __slots__ = ("feedback_id", "user_id", "story_id", "timestamp", "rating", "comment", "categories", "sentiment_score", "child_age", "device_type", "platform", "sentiment_label", "aspects", "analyzed", "parts")
    FEEDBACK_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    STORY_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_SCORE_FIELD_NUMBER: _ClassVar[int]
    CHILD_AGE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_LABEL_FIELD_NUMBER: _ClassVar[int]
    ASPECTS_FIELD_NUMBER: _ClassVar[int]
    ANALYZED_FIELD_NUMBER: _ClassVar[int]
    PARTS_FIELD_NUMBER: _ClassVar[int]
    feedback_id: str
    user_id: str
    story_id: str
    timestamp: str
    rating: int
    comment: str
    categories: _containers.RepeatedScalarFieldContainer[str]
    sentiment_score: float
    child_age: int
    device_type: str
    platform: str
    sentiment_label: str
    aspects: _containers.RepeatedCompositeFieldContainer[Aspect]
    analyzed: bool
    parts: _containers.RepeatedCompositeFieldContainer[CommentPart]
    def __init__(self, feedback_id: _Optional[str] = ..., user_id: _Optional[str] = ..., story_id: _Optional[str] = ..., timestamp: _Optional[str] = ..., rating: _Optional[int] = ..., comment: _Optional[str] = ..., categories: _Optional[_Iterable[str]] = ..., sentiment_score: _Optional[float] = ..., child_age: _Optional[int] = ..., device_type: _Optional[str] = ..., platform: _Optional[str] = ..., sentiment_label: _Optional[str] = ..., aspects: _Optional[_Iterable[_Union[Aspect, _Mapping]]] = ..., analyzed: _Optional[bool] = ..., parts: _Optional[_Iterable[_Union[CommentPart, _Mapping]]] = ...) -> None: ...

class CommentPart(_message.Message):
    __slots__ = ("text", "sentiment_score", "sentiment_label", "weight", "aspects")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_SCORE_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_LABEL_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    ASPECTS_FIELD_NUMBER: _ClassVar[int]
    text: str
    sentiment_score: float
    sentiment_label: str
    weight: float
    aspects: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, text: _Optional[str] = ..., sentiment_score: _Optional[float] = ..., sentiment_label: _Optional[str] = ..., weight: _Optional[float] = ..., aspects: _Optional[_Iterable[str]] = ...) -> None: ...

class Aspect(_message.Message):
    __slots__ = ("aspect", "polarity", "evidence")
    ASPECT_FIELD_NUMBER: _ClassVar[int]
    POLARITY_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    aspect: str
    polarity: str
    evidence: str
    def __init__(self, aspect: _Optional[str] = ..., polarity: _Optional[str] = ..., evidence: _Optional[str] = ...) -> None: ...

class SubmitFeedbackRequest(_message.Message):
    __slots__ = ("feedback",)
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    feedback: FeedbackEntry
    def __init__(self, feedback: _Optional[_Union[FeedbackEntry, _Mapping]] = ...) -> None: ...

class SubmitFeedbackResponse(_message.Message):
    __slots__ = ("feedback_id", "created", "redacted")
    FEEDBACK_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    REDACTED_FIELD_NUMBER: _ClassVar[int]
    feedback_id: str
    created: bool
    redacted: bool
    def __init__(self, feedback_id: _Optional[str] = ..., created: _Optional[bool] = ..., redacted: _Optional[bool] = ...) -> None: ...

class GetFeedbackSummaryRequest(_message.Message):
    __slots__ = ("start_date", "end_date", "story_id", "age_group", "platform", "device_type")
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    STORY_ID_FIELD_NUMBER: _ClassVar[int]
    AGE_GROUP_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    start_date: str
    end_date: str
    story_id: str
    age_group: str
    platform: str
    device_type: str
    def __init__(self, start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., story_id: _Optional[str] = ..., age_group: _Optional[str] = ..., platform: _Optional[str] = ..., device_type: _Optional[str] = ...) -> None: ...

class GetFeedbackSummaryResponse(_message.Message):
    __slots__ = ("count", "average_rating", "rating_distribution", "average_sentiment", "top_problems", "satisfaction_trend", "open_alerts", "quality", "suggestions", "sentiment_distribution")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_RATING_FIELD_NUMBER: _ClassVar[int]
    RATING_DISTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_SENTIMENT_FIELD_NUMBER: _ClassVar[int]
    TOP_PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    SATISFACTION_TREND_FIELD_NUMBER: _ClassVar[int]
    OPEN_ALERTS_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    SUGGESTIONS_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_DISTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    count: int
    average_rating: float
    rating_distribution: _containers.RepeatedScalarFieldContainer[int]
    average_sentiment: float
    top_problems: _containers.RepeatedCompositeFieldContainer[ProblemCount]
    satisfaction_trend: _containers.RepeatedCompositeFieldContainer[SatisfactionPoint]
    open_alerts: _containers.RepeatedCompositeFieldContainer[Alert]
    quality: _containers.RepeatedCompositeFieldContainer[QualityScore]
    suggestions: _containers.RepeatedScalarFieldContainer[str]
    sentiment_distribution: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, count: _Optional[int] = ..., average_rating: _Optional[float] = ..., rating_distribution: _Optional[_Iterable[int]] = ..., average_sentiment: _Optional[float] = ..., top_problems: _Optional[_Iterable[_Union[ProblemCount, _Mapping]]] = ..., satisfaction_trend: _Optional[_Iterable[_Union[SatisfactionPoint, _Mapping]]] = ..., open_alerts: _Optional[_Iterable[_Union[Alert, _Mapping]]] = ..., quality: _Optional[_Iterable[_Union[QualityScore, _Mapping]]] = ..., suggestions: _Optional[_Iterable[str]] = ..., sentiment_distribution: _Optional[_Iterable[int]] = ...) -> None: ...

class ProblemCount(_message.Message):
    __slots__ = ("aspect", "negative", "positive")
    ASPECT_FIELD_NUMBER: _ClassVar[int]
    NEGATIVE_FIELD_NUMBER: _ClassVar[int]
    POSITIVE_FIELD_NUMBER: _ClassVar[int]
    aspect: str
    negative: int
    positive: int
    def __init__(self, aspect: _Optional[str] = ..., negative: _Optional[int] = ..., positive: _Optional[int] = ...) -> None: ...

class SatisfactionPoint(_message.Message):
    __slots__ = ("date", "age_group", "platform", "count", "average_rating", "average_sentiment", "sentiment_count")
    DATE_FIELD_NUMBER: _ClassVar[int]
    AGE_GROUP_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_RATING_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_SENTIMENT_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    date: str
    age_group: str
    platform: str
    count: int
    average_rating: float
    average_sentiment: float
    sentiment_count: int
    def __init__(self, date: _Optional[str] = ..., age_group: _Optional[str] = ..., platform: _Optional[str] = ..., count: _Optional[int] = ..., average_rating: _Optional[float] = ..., average_sentiment: _Optional[float] = ..., sentiment_count: _Optional[int] = ...) -> None: ...

class QualityScore(_message.Message):
    __slots__ = ("scope", "key", "score", "bayesian_rating", "ratings")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    BAYESIAN_RATING_FIELD_NUMBER: _ClassVar[int]
    RATINGS_FIELD_NUMBER: _ClassVar[int]
    scope: str
    key: str
    score: float
    bayesian_rating: float
    ratings: int
    def __init__(self, scope: _Optional[str] = ..., key: _Optional[str] = ..., score: _Optional[float] = ..., bayesian_rating: _Optional[float] = ..., ratings: _Optional[int] = ...) -> None: ...

class SearchFeedbackRequest(_message.Message):
    __slots__ = ("q", "story_id", "min_rating", "max_rating", "start_date", "end_date", "sentiment_label", "page_size", "page_token")
    Q_FIELD_NUMBER: _ClassVar[int]
    STORY_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_RATING_FIELD_NUMBER: _ClassVar[int]
    MAX_RATING_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_LABEL_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    q: str
    story_id: str
    min_rating: int
    max_rating: int
    start_date: str
    end_date: str
    sentiment_label: str
    page_size: int
    page_token: str
    def __init__(self, q: _Optional[str] = ..., story_id: _Optional[str] = ..., min_rating: _Optional[int] = ..., max_rating: _Optional[int] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., sentiment_label: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class SearchFeedbackResponse(_message.Message):
    __slots__ = ("hits", "next_page_token")
    HITS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[SearchHit]
    next_page_token: str
    def __init__(self, hits: _Optional[_Iterable[_Union[SearchHit, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SearchHit(_message.Message):
    __slots__ = ("feedback", "rank", "snippet")
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    SNIPPET_FIELD_NUMBER: _ClassVar[int]
    feedback: FeedbackEntry
    rank: float
    snippet: str
    def __init__(self, feedback: _Optional[_Union[FeedbackEntry, _Mapping]] = ..., rank: _Optional[float] = ..., snippet: _Optional[str] = ...) -> None: ...

class ListStoryFeedbackRequest(_message.Message):
    __slots__ = ("story_id", "page_size", "page_token")
    STORY_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    story_id: str
    page_size: int
    page_token: str
    def __init__(self, story_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListStoryFeedbackResponse(_message.Message):
    __slots__ = ("feedback", "next_page_token")
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    feedback: _containers.RepeatedCompositeFieldContainer[FeedbackEntry]
    next_page_token: str
    def __init__(self, feedback: _Optional[_Iterable[_Union[FeedbackEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Alert(_message.Message):
    __slots__ = ("alert_id", "kind", "severity", "story_id", "message", "created_at", "status", "feedback_ids", "scope", "subject")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    STORY_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_IDS_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    kind: str
    severity: str
    story_id: str
    message: str
    created_at: str
    status: str
    feedback_ids: _containers.RepeatedScalarFieldContainer[str]
    scope: str
    subject: str
    def __init__(self, alert_id: _Optional[str] = ..., kind: _Optional[str] = ..., severity: _Optional[str] = ..., story_id: _Optional[str] = ..., message: _Optional[str] = ..., created_at: _Optional[str] = ..., status: _Optional[str] = ..., feedback_ids: _Optional[_Iterable[str]] = ..., scope: _Optional[str] = ..., subject: _Optional[str] = ...) -> None: ...

class ListAlertsRequest(_message.Message):
    __slots__ = ("status", "page_size")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    status: str
    page_size: int
    def __init__(self, status: _Optional[str] = ..., page_size: _Optional[int] = ...) -> None: ...

class ListAlertsResponse(_message.Message):
    __slots__ = ("alerts",)
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[Alert]
    def __init__(self, alerts: _Optional[_Iterable[_Union[Alert, _Mapping]]] = ...) -> None: ...

class ResolveAlertRequest(_message.Message):
    __slots__ = ("alert_id", "note")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    note: str
    def __init__(self, alert_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ResolveAlertResponse(_message.Message):
    __slots__ = ("alert",)
    ALERT_FIELD_NUMBER: _ClassVar[int]
    alert: Alert
    def __init__(self, alert: _Optional[_Union[Alert, _Mapping]] = ...) -> None: ...

class WatchAlertsRequest(_message.Message):
    __slots__ = ("kinds",)
    KINDS_FIELD_NUMBER: _ClassVar[int]
    kinds: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, kinds: _Optional[_Iterable[str]] = ...) -> None: ...

class WatchAlertsResponse(_message.Message):
    __slots__ = ("alert",)
    ALERT_FIELD_NUMBER: _ClassVar[int]
    alert: Alert
    def __init__(self, alert: _Optional[_Union[Alert, _Mapping]] = ...) -> None: ...

class ListModerationQueueRequest(_message.Message):
    __slots__ = ("page_size",)
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    def __init__(self, page_size: _Optional[int] = ...) -> None: ...

class ListModerationQueueResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ModerationItem]
    def __init__(self, items: _Optional[_Iterable[_Union[ModerationItem, _Mapping]]] = ...) -> None: ...

class ModerationItem(_message.Message):
    __slots__ = ("story_id", "reason", "status", "created_at", "alert_ids", "decision", "note", "decided_at")
    STORY_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    ALERT_IDS_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    story_id: str
    reason: str
    status: str
    created_at: str
    alert_ids: _containers.RepeatedScalarFieldContainer[str]
    decision: str
    note: str
    decided_at: str
    def __init__(self, story_id: _Optional[str] = ..., reason: _Optional[str] = ..., status: _Optional[str] = ..., created_at: _Optional[str] = ..., alert_ids: _Optional[_Iterable[str]] = ..., decision: _Optional[str] = ..., note: _Optional[str] = ..., decided_at: _Optional[str] = ...) -> None: ...

class DecideModerationRequest(_message.Message):
    __slots__ = ("story_id", "decision", "note")
    STORY_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    story_id: str
    decision: str
    note: str
    def __init__(self, story_id: _Optional[str] = ..., decision: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class DecideModerationResponse(_message.Message):
    __slots__ = ("item",)
    ITEM_FIELD_NUMBER: _ClassVar[int]
    item: ModerationItem
    def __init__(self, item: _Optional[_Union[ModerationItem, _Mapping]] = ...) -> None: ...
