"""Experiment definitions between protobuf messages of the contract and the domain types."""

from __future__ import annotations

from storyverse.analytics.v1 import experiments_pb2 as pb

from analytics_svc.experiments.model import DEFAULT_WINDOW_HOURS, Experiment, Metric, Variant


def metric_from(m: pb.Metric) -> Metric:
    return Metric(
        name=m.name,
        kind=m.kind,
        event=m.event,
        property=m.property,
        denominator_event=m.denominator_event,
        denominator_property=m.denominator_property,
        window_hours=m.window_hours or DEFAULT_WINDOW_HOURS,
        goal=m.goal or "increase",
    )


def experiment_from(m: pb.Experiment) -> Experiment:
    """The definition fields only; status and times are the service's."""
    t = m.targeting
    return Experiment(
        key=m.key,
        description=m.description,
        variants=tuple(Variant(v.key, v.weight, v.description) for v in m.variants),
        age_groups=tuple(t.age_groups),
        platforms=tuple(t.platforms),
        traffic_share=t.traffic_share if t.HasField("traffic_share") else 1.0,
        primary_metric=metric_from(m.primary_metric) if m.HasField("primary_metric") else None,
        guardrail_metrics=tuple(metric_from(g) for g in m.guardrail_metrics),
        salt=m.salt,
    )


def metric_to(m: Metric) -> pb.Metric:
    return pb.Metric(
        name=m.name,
        kind=m.kind,
        event=m.event,
        property=m.property,
        denominator_event=m.denominator_event,
        denominator_property=m.denominator_property,
        window_hours=m.window_hours,
        goal=m.goal,
    )


def experiment_to(e: Experiment) -> pb.Experiment:
    return pb.Experiment(
        key=e.key,
        description=e.description,
        variants=[pb.Variant(key=v.key, weight=v.weight, description=v.description) for v in e.variants],
        targeting=pb.Targeting(age_groups=e.age_groups, platforms=e.platforms, traffic_share=e.traffic_share),
        primary_metric=metric_to(e.primary_metric) if e.primary_metric else None,
        guardrail_metrics=[metric_to(g) for g in e.guardrail_metrics],
        salt=e.salt,
        status=e.status,
        created_at=e.created_at,
        started_at=e.started_at,
        stopped_at=e.stopped_at,
        weights_changed_at=e.weights_changed_at,
    )
