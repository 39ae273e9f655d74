"""Dashboard and report parameters: defaults, and the checks the contract's rules cannot
express (date order, range limits, funnel steps, per-report constraints).

The contract already rejects unknown report types, granularities, filter values and
breakdowns before any of this runs; here every problem is a FieldViolation naming the
request field, raised as InvalidArgument.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from storyverse.analytics.v1 import events_pb2

from common.errors import FieldViolation, InvalidArgument
from common.rules import message_rules

DEFAULT_DAYS = 30
MAX_DAYS = 731
MAX_HOURLY_DAYS = 31
DEFAULT_WINDOW_HOURS = 24
DEFAULT_PERIODS = 8
DEFAULT_REALTIME_MINUTES = 15
EVENT_TYPES = frozenset(message_rules(events_pb2.Event.DESCRIPTOR).field("event_type").text.allowed)
_STEP = re.compile(r"^([a-z_]+)(?:\[(.*)\])?$")
# Step properties: how each is matched. Columns are typed columns of `events`; "array"
# properties match when the value is one of the event's list; the rest live in props.
STEP_PROPERTIES = {
    "age_group": "column",
    "platform": "column",
    "device_type": "column",
    "feature": "column",
    "theme": "column",
    "moral_lesson": "column",
    "story_id": "column",
    "universe": "array",
    "character": "array",
    "page": "props",
    "recommendation_type": "props",
    "item_id": "props",
    "experiment_key": "props",
    "variant": "props",
    "error_code": "props",
    "app_version": "props",
    "model_version": "props",
}


@dataclass(frozen=True)
class Filters:
    age_group: str = ""
    platform: str = ""
    device_type: str = ""


@dataclass(frozen=True)
class Step:
    event_type: str
    conditions: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        if not self.conditions:
            return self.event_type
        return f"{self.event_type}[{','.join(f'{k}={v}' for k, v in self.conditions)}]"


@dataclass(frozen=True)
class ReportParams:
    report_type: str
    start: date
    end: date
    granularity: str = "day"
    filters: Filters = field(default_factory=Filters)
    breakdown: str = ""
    steps: tuple[Step, ...] = ()
    window_hours: int = DEFAULT_WINDOW_HOURS
    funnel_order: str = "ordered"
    periods: int = DEFAULT_PERIODS
    start_event: str = ""
    return_event: str = ""
    experiment_key: str = ""
    # start_date or end_date was given (churn_risk: only then do the dates select cohorts)
    explicit_dates: bool = False


@dataclass(frozen=True)
class DashboardParams:
    start: date
    end: date
    filters: Filters = field(default_factory=Filters)
    realtime_minutes: int = DEFAULT_REALTIME_MINUTES


def today() -> date:
    return datetime.now(UTC).date()


def date_range(start: str, end: str, violations: list[FieldViolation]) -> tuple[date, date]:
    last = date.fromisoformat(end) if end else today()
    first = date.fromisoformat(start) if start else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        violations.append(FieldViolation("start_date", "must not be after end_date"))
    elif (last - first).days >= MAX_DAYS:
        violations.append(FieldViolation("start_date", f"the range must be at most {MAX_DAYS} days"))
    return first, last


def dashboard_params(request) -> DashboardParams:
    """GetDashboardRequest, or GetRecommendationClickThroughRequest (the same dates and
    filters, no real-time window) → DashboardParams."""
    violations: list[FieldViolation] = []
    start, end = date_range(request.start_date, request.end_date, violations)
    if violations:
        raise InvalidArgument.of(violations)
    minutes = getattr(request, "realtime_minutes", 0)
    return DashboardParams(start, end, _filters(request), minutes or DEFAULT_REALTIME_MINUTES)


def report_params(request) -> ReportParams:
    """GetReportRequest or ExportReportRequest (same fields) → ReportParams."""
    violations: list[FieldViolation] = []
    start, end = date_range(request.start_date, request.end_date, violations)
    granularity = request.granularity or "day"
    if granularity == "hour" and (end - start).days >= MAX_HOURLY_DAYS:
        violations.append(
            FieldViolation("granularity", f"hour needs a range of at most {MAX_HOURLY_DAYS} days")
        )
    steps = tuple(_step(text, i, violations) for i, text in enumerate(request.steps))
    kind = request.report_type
    if kind == "funnel" and len(request.steps) < 2:
        violations.append(FieldViolation("steps", "a funnel needs at least 2 steps"))
    if kind != "funnel" and request.steps:
        violations.append(FieldViolation("steps", "only the funnel report takes steps"))
    for name in ("start_event", "return_event"):
        value = getattr(request, name)
        if value and value not in EVENT_TYPES:
            violations.append(FieldViolation(name, f"unknown event type {value!r}"))
    if kind == "retention":
        if granularity == "hour":
            violations.append(FieldViolation("granularity", "retention cohorts are daily or weekly"))
        if request.breakdown and request.breakdown not in ("age_group", "platform", "device_type"):
            violations.append(
                FieldViolation("breakdown", "retention splits by age_group, platform or device_type")
            )
    if kind == "content":
        if granularity == "hour":
            violations.append(FieldViolation("granularity", "the content report is daily or weekly"))
        if request.breakdown and request.breakdown not in ("age_group", "platform", "device_type"):
            violations.append(
                FieldViolation("breakdown", "content splits by age_group, platform or device_type")
            )
    if kind == "churn_risk":
        _churn_risk_checks(request, granularity, violations)
    if kind == "experiment" and not request.experiment_key:
        violations.append(FieldViolation("experiment_key", "is required for the experiment report"))
    if violations:
        raise InvalidArgument.of(violations)
    return ReportParams(
        report_type=kind,
        start=start,
        end=end,
        granularity=granularity,
        filters=_filters(request),
        breakdown=request.breakdown,
        steps=steps,
        window_hours=request.conversion_window_hours or DEFAULT_WINDOW_HOURS,
        funnel_order=request.funnel_order or "ordered",
        periods=request.periods or DEFAULT_PERIODS,
        start_event=request.start_event,
        return_event=request.return_event,
        experiment_key=request.experiment_key,
        explicit_dates=bool(request.start_date or request.end_date),
    )


def _churn_risk_checks(request, granularity: str, violations: list[FieldViolation]) -> None:
    """churn_risk: the latest predictions in weekly cohorts, split by every key at once."""
    if granularity != "week" and request.granularity:
        violations.append(FieldViolation("granularity", "churn_risk cohorts are weekly"))
    if request.breakdown:
        violations.append(
            FieldViolation("breakdown", "churn_risk splits by age group, platform and cohort in its tables")
        )
    for name in ("start_event", "return_event", "experiment_key"):
        if getattr(request, name):
            violations.append(FieldViolation(name, "churn_risk does not take this parameter"))


def parse_step(text: str) -> Step:
    """'story_creation[theme=space,universe=frozen]' → Step; ValueError says what is wrong."""
    match = _STEP.match(text.strip())
    if not match:
        raise ValueError('must be "event_type" or "event_type[property=value,...]"')
    event_type, body = match.group(1), match.group(2)
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    conditions = []
    if body is not None:
        for part in body.split(","):
            name, sep, value = part.partition("=")
            name, value = name.strip(), value.strip()
            if not sep or not name or not value:
                raise ValueError(f"condition {part!r} must be property=value")
            if name not in STEP_PROPERTIES:
                raise ValueError(f"unknown property {name!r}; known: {', '.join(sorted(STEP_PROPERTIES))}")
            conditions.append((name, value))
    return Step(event_type, tuple(conditions))


def _step(text: str, index: int, violations: list[FieldViolation]) -> Step:
    try:
        return parse_step(text)
    except ValueError as exc:
        violations.append(FieldViolation(f"steps[{index}]", str(exc)))
        return Step("")


def _filters(request) -> Filters:
    return Filters(request.age_group, request.platform, request.device_type)


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
