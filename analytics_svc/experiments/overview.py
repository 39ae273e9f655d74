"""Experiments as the dashboard and the reports see them.

The dashboard calls `running()`, the experiment report calls `report()`; the statistics
live in report.py / stats.py, the definitions in store.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

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


async def running(pool: asyncpg.Pool) -> list[RunningExperiment]:
    """Running experiments with the users exposed since their start."""
    found = await experiment_store.list_all(pool, "running")
    if not found:
        return []
    since = [datetime.fromisoformat(e.started_at) for e in found]
    exposed = await experiment_store.exposed_users(pool, [e.key for e in found], since)
    return [
        RunningExperiment(
            e.key, e.description, [v.key for v in e.variants], e.started_at, exposed.get(e.key, 0)
        )
        for e in found
    ]


async def report(pool: asyncpg.Pool, params: ReportParams) -> Report:
    exp = await experiment_store.get(pool, params.experiment_key)
    if exp is None:
        raise NotFound(
            f"no such experiment: {params.experiment_key!r}",
            [FieldViolation("experiment_key", "no such experiment")],
        )
    return await experiment_report.build(pool, exp, params)
