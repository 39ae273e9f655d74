from google.api import annotations_pb2 as _annotations_pb2
from storyverse.common.v1 import rules_pb2 as _rules_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Experiment(_message.Message):
    __slots__ = ("key", "description", "variants", "targeting", "primary_metric", "guardrail_metrics", "salt", "status", "created_at", "started_at", "stopped_at", "weights_changed_at", "surface")
    KEY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VARIANTS_FIELD_NUMBER: _ClassVar[int]
    TARGETING_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_METRIC_FIELD_NUMBER: _ClassVar[int]
    GUARDRAIL_METRICS_FIELD_NUMBER: _ClassVar[int]
    SALT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    STOPPED_AT_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    SURFACE_FIELD_NUMBER: _ClassVar[int]
    key: str
    description: str
    variants: _containers.RepeatedCompositeFieldContainer[Variant]
    targeting: Targeting
    primary_metric: Metric
    guardrail_metrics: _containers.RepeatedCompositeFieldContainer[Metric]
    salt: str
    status: str
    created_at: str
    started_at: str
    stopped_at: str
    weights_changed_at: str
    surface: str
    def __init__(self, key: _Optional[str] = ..., description: _Optional[str] = ..., variants: _Optional[_Iterable[_Union[Variant, _Mapping]]] = ..., targeting: _Optional[_Union[Targeting, _Mapping]] = ..., primary_metric: _Optional[_Union[Metric, _Mapping]] = ..., guardrail_metrics: _Optional[_Iterable[_Union[Metric, _Mapping]]] = ..., salt: _Optional[str] = ..., status: _Optional[str] = ..., created_at: _Optional[str] = ..., started_at: _Optional[str] = ..., stopped_at: _Optional[str] = ..., weights_changed_at: _Optional[str] = ..., surface: _Optional[str] = ...) -> None: ...

class Variant(_message.Message):
    __slots__ = ("key", "weight", "description", "recommendation")
    KEY_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDATION_FIELD_NUMBER: _ClassVar[int]
    key: str
    weight: float
    description: str
    recommendation: RecommendationOptions
    def __init__(self, key: _Optional[str] = ..., weight: _Optional[float] = ..., description: _Optional[str] = ..., recommendation: _Optional[_Union[RecommendationOptions, _Mapping]] = ...) -> None: ...

class RecommendationOptions(_message.Message):
    __slots__ = ("model_version", "diversity")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    DIVERSITY_FIELD_NUMBER: _ClassVar[int]
    model_version: str
    diversity: bool
    def __init__(self, model_version: _Optional[str] = ..., diversity: _Optional[bool] = ...) -> None: ...

class Targeting(_message.Message):
    __slots__ = ("age_groups", "platforms", "traffic_share")
    AGE_GROUPS_FIELD_NUMBER: _ClassVar[int]
    PLATFORMS_FIELD_NUMBER: _ClassVar[int]
    TRAFFIC_SHARE_FIELD_NUMBER: _ClassVar[int]
    age_groups: _containers.RepeatedScalarFieldContainer[str]
    platforms: _containers.RepeatedScalarFieldContainer[str]
    traffic_share: float
    def __init__(self, age_groups: _Optional[_Iterable[str]] = ..., platforms: _Optional[_Iterable[str]] = ..., traffic_share: _Optional[float] = ...) -> None: ...

class Metric(_message.Message):
    __slots__ = ("name", "kind", "event", "property", "denominator_event", "denominator_property", "window_hours", "goal")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    PROPERTY_FIELD_NUMBER: _ClassVar[int]
    DENOMINATOR_EVENT_FIELD_NUMBER: _ClassVar[int]
    DENOMINATOR_PROPERTY_FIELD_NUMBER: _ClassVar[int]
    WINDOW_HOURS_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: str
    event: str
    property: str
    denominator_event: str
    denominator_property: str
    window_hours: int
    goal: str
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[str] = ..., event: _Optional[str] = ..., property: _Optional[str] = ..., denominator_event: _Optional[str] = ..., denominator_property: _Optional[str] = ..., window_hours: _Optional[int] = ..., goal: _Optional[str] = ...) -> None: ...

class CreateExperimentRequest(_message.Message):
    __slots__ = ("experiment",)
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    experiment: Experiment
    def __init__(self, experiment: _Optional[_Union[Experiment, _Mapping]] = ...) -> None: ...

class CreateExperimentResponse(_message.Message):
    __slots__ = ("experiment",)
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    experiment: Experiment
    def __init__(self, experiment: _Optional[_Union[Experiment, _Mapping]] = ...) -> None: ...

class UpdateExperimentRequest(_message.Message):
    __slots__ = ("key", "experiment")
    KEY_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    key: str
    experiment: Experiment
    def __init__(self, key: _Optional[str] = ..., experiment: _Optional[_Union[Experiment, _Mapping]] = ...) -> None: ...

class UpdateExperimentResponse(_message.Message):
    __slots__ = ("experiment",)
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    experiment: Experiment
    def __init__(self, experiment: _Optional[_Union[Experiment, _Mapping]] = ...) -> None: ...

class StartExperimentRequest(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: str
    def __init__(self, key: _Optional[str] = ...) -> None: ...

class StartExperimentResponse(_message.Message):
    __slots__ = ("experiment",)
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    experiment: Experiment
    def __init__(self, experiment: _Optional[_Union[Experiment, _Mapping]] = ...) -> None: ...

class StopExperimentRequest(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: str
    def __init__(self, key: _Optional[str] = ...) -> None: ...

class StopExperimentResponse(_message.Message):
    __slots__ = ("experiment",)
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    experiment: Experiment
    def __init__(self, experiment: _Optional[_Union[Experiment, _Mapping]] = ...) -> None: ...

class GetExperimentRequest(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: str
    def __init__(self, key: _Optional[str] = ...) -> None: ...

class GetExperimentResponse(_message.Message):
    __slots__ = ("experiment",)
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    experiment: Experiment
    def __init__(self, experiment: _Optional[_Union[Experiment, _Mapping]] = ...) -> None: ...

class ListExperimentsRequest(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: str
    def __init__(self, status: _Optional[str] = ...) -> None: ...

class ListExperimentsResponse(_message.Message):
    __slots__ = ("experiments",)
    EXPERIMENTS_FIELD_NUMBER: _ClassVar[int]
    experiments: _containers.RepeatedCompositeFieldContainer[Experiment]
    def __init__(self, experiments: _Optional[_Iterable[_Union[Experiment, _Mapping]]] = ...) -> None: ...

class AssignmentContext(_message.Message):
    __slots__ = ("age_group", "platform", "device_type")
    AGE_GROUP_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    age_group: str
    platform: str
    device_type: str
    def __init__(self, age_group: _Optional[str] = ..., platform: _Optional[str] = ..., device_type: _Optional[str] = ...) -> None: ...

class GetAssignmentsRequest(_message.Message):
    __slots__ = ("user_id", "context", "surface")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    SURFACE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    context: AssignmentContext
    surface: str
    def __init__(self, user_id: _Optional[str] = ..., context: _Optional[_Union[AssignmentContext, _Mapping]] = ..., surface: _Optional[str] = ...) -> None: ...

class GetAssignmentsResponse(_message.Message):
    __slots__ = ("assignments",)
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    assignments: _containers.RepeatedCompositeFieldContainer[Assignment]
    def __init__(self, assignments: _Optional[_Iterable[_Union[Assignment, _Mapping]]] = ...) -> None: ...

class Assignment(_message.Message):
    __slots__ = ("experiment_key", "variant", "new_exposure")
    EXPERIMENT_KEY_FIELD_NUMBER: _ClassVar[int]
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    NEW_EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    experiment_key: str
    variant: str
    new_exposure: bool
    def __init__(self, experiment_key: _Optional[str] = ..., variant: _Optional[str] = ..., new_exposure: _Optional[bool] = ...) -> None: ...
