"""Experiments: the hook the A/B testing issue fills in.

Until experiments exist, nothing is running and every experiment key is unknown.
The dashboard calls `running()`, the experiment report calls `report()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

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
    return []  # A/B issue: list the experiments whose status is "running", with exposures.


async def report(pool: asyncpg.Pool, params: ReportParams) -> Report:
    raise NotFound(
        f"no such experiment: {params.experiment_key!r} (experiments are not available yet)",
        [FieldViolation("experiment_key", "no such experiment")],
    )
