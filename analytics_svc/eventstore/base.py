"""The event store protocol: what ingestion writes and what the dashboard and the reports
read of raw events, the same answers on every backend (tests/analytics/test_eventstore_*).

Reads return the rows the report modules shape (reports/, experiments/): their shapes are
those of the PostgreSQL queries (analytics_svc/queries/), so the shaping code is shared.

    store = choose.open_event_store(settings, pool)
    new_ids = await store.append(rows)                  # rows in ingestion.prepare.COLUMNS order
    groups, source = await store.funnel(params, window_seconds)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from analytics_svc.experiments.model import Metric
from analytics_svc.figures import Distribution
from analytics_svc.requests import DashboardParams, Filters, ReportParams


@dataclass
class DashboardRows:
    """The event-derived parts of the dashboard, in the shapes dashboard.py folds."""

    active: list[dict]  # {"kind": "totals"|"day", "day", "dau", "wau", "mau"}
    counts: list[Mapping]  # {"day", "event_type", "device_type", "platform", "events"}
    content: list[Mapping]  # {"kind", "key", "uses"}
    creation_time: Distribution = field(default_factory=Distribution)
    sources: set[str] = field(default_factory=set)


class EventStore(Protocol):
    name: str

    async def append(self, rows: Sequence[tuple]) -> set[str]:
        """Store rows idempotently by event_id; the ids that were new. Durable on return."""

    async def erase_user(self, user_id: str) -> int:
        """Delete every event of a user; how many there were."""

    async def dashboard(self, params: DashboardParams, activity_from: date) -> DashboardRows: ...

    async def ingestion(self, since: datetime) -> tuple[int, list[float] | None]:
        """Events stored since `since` and the p50/p99 of stored_at - received_at (seconds)."""

    async def funnel(self, params: ReportParams, window_seconds: int) -> tuple[list[dict], str]:
        """One {"group", "steps": [(users, median_prev, median_first)]} per breakdown value."""

    async def retention(self, params: ReportParams) -> tuple[dict, str]:
        """{(group, cohort): {"size", "in": [...], "or_later": [...]}} and the source."""

    async def story_creation(self, lo, hi, granularity: str, filters: Filters, breakdown: str) -> list: ...

    async def feature_usage(self, lo, hi, granularity: str, filters: Filters, breakdown: str) -> list: ...

    async def active_users(self, lo, hi, filters: Filters) -> int: ...

    async def engagement(self, lo, hi, granularity: str, filters: Filters, breakdown: str) -> list: ...

    async def content(self, params: ReportParams) -> tuple[list, str]:
        """Uses per day, kind, key and group ({"day", "kind", "key", "grp", "uses"})."""

    async def ingestion_lag(self, lo, hi, granularity: str) -> list: ...

    async def exposed_users(self, keys: list[str], since: list[datetime]) -> dict[str, int]: ...

    async def daily_activity(self, lo: datetime, hi: datetime) -> list[Mapping]:
        """Per user and UTC day in [lo, hi), by day: "events", each channel of churn/activity.py,
        "evening_sessions", the day's last known "age_group"/"device_type"/"platform" (empty when
        none), "last_ts" (the predicted-retention model's input)."""

    async def first_seen(self, user_ids: Sequence[str]) -> dict[str, datetime]:
        """The time of each user's first event ever stored."""

    async def experiment_exposures(
        self, key: str, lo: datetime, hi: datetime, filters: Filters, since: datetime | None
    ) -> tuple[dict[str, int], dict[str, int], int]:
        """Users per variant first exposed in [lo, hi), those first exposed at or after
        `since` (SRM), and the users left out for having seen several variants."""

    async def experiment_moments(
        self, metric: Metric, key: str, lo: datetime, hi: datetime, filters: Filters
    ) -> dict[str, Mapping]:
        """Per variant {"n", "sy", "syy", "sx", "sxx", "sxy"} (experiments/queries.py)."""

    async def recommendation_clicks(self, params: DashboardParams) -> tuple[list[Mapping], str]:
        """{"recommendation_type", "model_version", "shown", "clicked"} cells and the source."""

    async def close(self) -> None: ...
