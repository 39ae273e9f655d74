"""Experiments as the dashboard and the reports see them.

The dashboard calls `running()`, the experiment report calls `report()`; the statistics
live in report.py / stats.py, the definitions in store.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from analytics_svc.eventstore.base import EventStore
from analytics_svc.experiments import report as experiment_report
from analytics_svc.experiments import store as experiment_store
from analytics_svc.figures import Report
from analytics_svc.requests import ReportParams
from common.errors import FieldViolation, NotFound


@dataclass
class RunningExperiment:
    key: str
    description: str = ""
    variants: list[str] = field(default_factory=list)
    started_at: str = ""
    exposed_users: int = 0


async def running(pool: asyncpg.Pool, events: EventStore | None = None) -> list[RunningExperiment]:
    """Running experiments with the users exposed since their start (exposures are events:
    `events` holds them; default the same PostgreSQL database)."""
    found = await experiment_store.list_all(pool, "running")
    if not found:
        return []
    since = [datetime.fromisoformat(e.started_at) for e in found]
    keys = [e.key for e in found]
    if events is None:
        exposed = await experiment_store.exposed_users(pool, keys, since)
    else:
        exposed = await events.exposed_users(keys, since)
    return [
        RunningExperiment(
            e.key, e.description, [v.key for v in e.variants], e.started_at, exposed.get(e.key, 0)
        )
        for e in found
    ]


async def report(pool: asyncpg.Pool, params: ReportParams, events: EventStore | None = None) -> Report:
    """The experiment report; definitions from PostgreSQL, sufficient statistics from
    `events` (default: the events table of the same PostgreSQL database)."""
    if events is None:
        from analytics_svc.eventstore.postgres import PostgresEventStore  # it imports experiments

        events = PostgresEventStore(pool)
    exp = await experiment_store.get(pool, params.experiment_key)
    if exp is None:
        raise NotFound(
            f"no such experiment: {params.experiment_key!r}",
            [FieldViolation("experiment_key", "no such experiment")],
        )
    return await experiment_report.build(events, exp, params)
