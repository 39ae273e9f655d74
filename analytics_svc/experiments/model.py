"""Experiment definitions: the domain types, the checks the contract's rules cannot express,
and the JSON document they are stored as (no protobuf, no SQL here)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from analytics_svc.experiments.assignment import Arm, Rules
from analytics_svc.requests import Step, parse_step
from common.errors import FailedPrecondition, FieldViolation, InvalidArgument

DEFAULT_WINDOW_HOURS = 168
RESERVED_KEYS = frozenset({"assignments"})  # a path segment of GET /api/experiments/assignments


@dataclass(frozen=True)
class Variant:
    key: str
    weight: float
    description: str = ""


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # conversion | mean | ratio
    event: str
    property: str = ""
    denominator_event: str = ""
    denominator_property: str = ""
    window_hours: int = DEFAULT_WINDOW_HOURS
    goal: str = "increase"

    # Methods, not properties: the field `property` shadows the builtin in this class body.
    def step(self) -> Step:
        return parse_step(self.event)

    def denominator_step(self) -> Step:
        return parse_step(self.denominator_event)


@dataclass(frozen=True)
class Experiment:
    key: str
    description: str = ""
    variants: tuple[Variant, ...] = ()
    age_groups: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    traffic_share: float = 1.0
    primary_metric: Metric | None = None
    guardrail_metrics: tuple[Metric, ...] = ()
    salt: str = ""
    status: str = "draft"
    created_at: str = ""
    started_at: str = ""
    stopped_at: str = ""
    weights_changed_at: str = ""
    metrics: tuple[Metric, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        primary = (self.primary_metric,) if self.primary_metric else ()
        object.__setattr__(self, "metrics", primary + self.guardrail_metrics)

    @property
    def rules(self) -> Rules:
        return Rules(
            self.salt or self.key,
            tuple(Arm(v.key, v.weight) for v in self.variants),
            frozenset(self.age_groups),
            frozenset(self.platforms),
            self.traffic_share,
        )

    @property
    def weights(self) -> list[float]:
        return [v.weight for v in self.variants]


def definition_json(exp: Experiment) -> dict:
    """The stored document: everything but key, salt, status and times (columns)."""
    return {
        "description": exp.description,
        "variants": [asdict(v) for v in exp.variants],
        "age_groups": list(exp.age_groups),
        "platforms": list(exp.platforms),
        "traffic_share": exp.traffic_share,
        "primary_metric": asdict(exp.primary_metric) if exp.primary_metric else None,
        "guardrail_metrics": [asdict(m) for m in exp.guardrail_metrics],
    }


def from_json(key: str, salt: str, status: str, doc: dict, times: dict[str, str]) -> Experiment:
    primary = doc.get("primary_metric")
    return Experiment(
        key=key,
        description=doc.get("description", ""),
        variants=tuple(Variant(**v) for v in doc.get("variants", [])),
        age_groups=tuple(doc.get("age_groups", [])),
        platforms=tuple(doc.get("platforms", [])),
        traffic_share=doc.get("traffic_share", 1.0),
        primary_metric=Metric(**primary) if primary else None,
        guardrail_metrics=tuple(Metric(**m) for m in doc.get("guardrail_metrics", [])),
        salt=salt,
        status=status,
        **times,
    )


def check(exp: Experiment, prefix: str = "experiment", new: bool = True) -> None:
    """Raise InvalidArgument listing every problem the field rules cannot see (a new
    experiment needs its key; an update takes it from the path)."""
    out: list[FieldViolation] = []
    if new and not exp.key:
        out.append(FieldViolation(f"{prefix}.key", "is required"))
    if exp.key in RESERVED_KEYS:
        out.append(FieldViolation(f"{prefix}.key", f"{exp.key!r} is reserved"))
    if not 2 <= len(exp.variants) <= 10:
        out.append(FieldViolation(f"{prefix}.variants", "an experiment has 2 to 10 variants"))
    keys = [v.key for v in exp.variants]
    if len(set(keys)) != len(keys):
        out.append(FieldViolation(f"{prefix}.variants", "variant keys must be unique"))
    if exp.variants and sum(v.weight for v in exp.variants) <= 0:
        out.append(FieldViolation(f"{prefix}.variants", "at least one weight must be positive"))
    if exp.primary_metric is None:
        out.append(FieldViolation(f"{prefix}.primary_metric", "is required"))
    else:
        _check_metric(exp.primary_metric, f"{prefix}.primary_metric", out)
    for i, metric in enumerate(exp.guardrail_metrics):
        _check_metric(metric, f"{prefix}.guardrail_metrics[{i}]", out)
    names = [m.name for m in exp.metrics]
    if len(set(names)) != len(names):
        out.append(FieldViolation(f"{prefix}.guardrail_metrics", "metric names must be unique"))
    if out:
        raise InvalidArgument.of(out)


def _check_metric(metric: Metric, path: str, out: list[FieldViolation]) -> None:
    for name in ("event", "denominator_event"):
        text = getattr(metric, name)
        if text:
            try:
                parse_step(text)
            except ValueError as exc:
                out.append(FieldViolation(f"{path}.{name}", str(exc)))
    if metric.kind == "mean" and not metric.property:
        out.append(FieldViolation(f"{path}.property", "a mean metric needs the numeric property"))
    if metric.kind == "ratio" and not metric.denominator_event:
        out.append(FieldViolation(f"{path}.denominator_event", "a ratio metric needs a denominator"))
    if metric.kind != "ratio" and (metric.denominator_event or metric.denominator_property):
        out.append(FieldViolation(f"{path}.denominator_event", "only ratio metrics have a denominator"))
    if metric.kind == "conversion" and metric.property:
        out.append(FieldViolation(f"{path}.property", "a conversion metric counts users, not a property"))


def updated(old: Experiment, new: Experiment) -> Experiment:
    """The stored experiment after an update: running experiments change only their
    description, guardrails and weights (same variants, same order); stopped ones nothing."""
    if old.status == "stopped":
        raise FailedPrecondition("a stopped experiment cannot change", [FieldViolation("key", "is stopped")])
    merged = replace(
        new,
        key=old.key,
        salt=old.salt,
        status=old.status,
        created_at=old.created_at,
        started_at=old.started_at,
        stopped_at=old.stopped_at,
        weights_changed_at=old.weights_changed_at,
    )
    if old.status != "running":
        return merged
    frozen = ("age_groups", "platforms", "traffic_share", "primary_metric")
    changed = [name for name in frozen if getattr(old, name) != getattr(new, name)]
    if [v.key for v in old.variants] != [v.key for v in new.variants]:
        changed.append("variants")
    if changed:
        raise FailedPrecondition(
            "a running experiment changes only its description, guardrails and weights",
            [FieldViolation(f"experiment.{name}", "cannot change while running") for name in changed],
        )
    return merged
