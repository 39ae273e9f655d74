"""The dashboard: active users, creations, top content, splits, ingestion health and
real-time figures, computed concurrently (one pool connection per query).

Daily figures come from the rollups for rolled-up days and from raw events for the
others (`source`); ingestion health and real-time figures are always live.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg

from analytics_svc.churn import risk as churn_risk
from analytics_svc.churn.store import AtRisk
from analytics_svc.eventstore.base import EventStore
from analytics_svc.eventstore.postgres import PostgresEventStore
from analytics_svc.experiments import overview as experiments
from analytics_svc.figures import Distribution, Ranked, Series, ranked
from analytics_svc.queries import dashboard as sql
from analytics_svc.requests import DashboardParams, day_start

TOP = 10
CONTENT_KINDS = {
    "universe": "top_universes",
    "character": "top_characters",
    "theme": "top_themes",
    "moral_lesson": "top_moral_lessons",
    "universe_pair": "top_universe_pairs",
}


@dataclass
class Ingestion:
    events_per_second: float = 0.0
    lag_p50: float = 0.0
    lag_p99: float = 0.0
    failed_events: int = 0
    total_events: int = 0


@dataclass
class Realtime:
    window_minutes: int
    events: int = 0
    active_users: int = 0
    per_minute: Series = field(default_factory=lambda: Series("events_per_minute"))


@dataclass
class Dashboard:
    start: str
    end: str
    dau: int = 0
    wau: int = 0
    mau: int = 0
    stickiness: float = 0.0
    daily_users: Series = field(default_factory=lambda: Series("daily_active_users"))
    events_by_type: list[Series] = field(default_factory=list)
    story_creations: Series = field(default_factory=lambda: Series("story_creation"))
    top: dict[str, list[Ranked]] = field(default_factory=dict)
    creation_time: Distribution = field(default_factory=Distribution)
    device_split: list[Ranked] = field(default_factory=list)
    platform_split: list[Ranked] = field(default_factory=list)
    ingestion: Ingestion = field(default_factory=Ingestion)
    running_experiments: list[experiments.RunningExperiment] = field(default_factory=list)
    realtime: Realtime | None = None
    source: str = "raw"
    churn_risk: AtRisk = field(default_factory=AtRisk)


async def build(
    pool: asyncpg.Pool, params: DashboardParams, now: datetime | None = None, events: EventStore | None = None
) -> Dashboard:
    """`events` holds the raw events (default: PostgreSQL, the same pool); rejections,
    real-time buckets and experiment definitions are always in PostgreSQL."""
    events = events or PostgresEventStore(pool)
    now = now or datetime.now(UTC)
    start, end = params.start, params.end
    # WAU/MAU look back 30 days from the end, possibly before the selected start.
    activity_from = min(start, end - timedelta(days=29))
    minutes = params.realtime_minutes
    since = now.replace(second=0, microsecond=0) - timedelta(minutes=minutes - 1)
    rows, (stored, lag), failed, (per_minute, rt_users), running, at_risk = await asyncio.gather(
        events.dashboard(params, activity_from),
        events.ingestion(now - timedelta(minutes=minutes)),
        sql.failed(pool, day_start(start), day_start(end + timedelta(days=1))),
        sql.realtime(pool, since),
        experiments.running(pool, events),
        churn_risk.dashboard_figures(pool, params.filters),
    )
    sources = set(rows.sources)
    board = Dashboard(str(start), str(end), source=sources.pop() if len(sources) == 1 else "rollups+raw")
    days = [str(start + timedelta(days=i)) for i in range((end - start).days + 1)]
    _active(board, rows.active, days)
    _counts(board, rows.counts, days)
    for kind, name in CONTENT_KINDS.items():
        board.top[name] = ranked({r["key"]: float(r["uses"]) for r in rows.content if r["kind"] == kind}, TOP)
    board.creation_time = rows.creation_time
    lag = lag or [0.0, 0.0]
    board.ingestion = Ingestion(
        events_per_second=stored / (minutes * 60),
        lag_p50=float(lag[0] or 0.0),
        lag_p99=float(lag[1] or 0.0),
        failed_events=failed,
        total_events=sum(r["events"] for r in rows.counts),
    )
    board.running_experiments = running
    board.churn_risk = at_risk
    board.realtime = _realtime(minutes, since, per_minute, rt_users)
    return board


def _active(board: Dashboard, rows, days: list[str]) -> None:
    per_day = {str(r["day"]): r["dau"] for r in rows if r["kind"] == "day"}
    totals = next(r for r in rows if r["kind"] == "totals")
    board.dau, board.wau, board.mau = totals["dau"], totals["wau"], totals["mau"]
    board.daily_users.points = [(d, float(per_day.get(d, 0))) for d in days]
    average = sum(per_day.get(d, 0) for d in days) / len(days)
    board.stickiness = average / board.mau if board.mau else 0.0


def _counts(board: Dashboard, rows, days: list[str]) -> None:
    by_type: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    devices: dict[str, float] = defaultdict(float)
    platforms: dict[str, float] = defaultdict(float)
    for r in rows:
        by_type[r["event_type"]][str(r["day"])] += r["events"]
        devices[r["device_type"] or "unknown"] += r["events"]
        platforms[r["platform"] or "unknown"] += r["events"]
    board.events_by_type = [
        Series(kind, [(d, per_day.get(d, 0.0)) for d in days]) for kind, per_day in sorted(by_type.items())
    ]
    creations = by_type.get("story_creation", {})
    board.story_creations = Series("story_creation", [(d, creations.get(d, 0.0)) for d in days])
    board.device_split = ranked(devices, None)
    board.platform_split = ranked(platforms, None)


def _realtime(minutes: int, since: datetime, rows, users: int) -> Realtime:
    counts = {r["minute"]: float(r["events"]) for r in rows}
    points = []
    for i in range(minutes):
        minute = since + timedelta(minutes=i)
        points.append((minute.isoformat().replace("+00:00", "Z"), counts.get(minute, 0.0)))
    return Realtime(minutes, int(sum(counts.values())), users, Series("events_per_minute", points))
