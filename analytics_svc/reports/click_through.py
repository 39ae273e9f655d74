"""Recommendation click-through: recommendations shown and clicked per kind, per model
version and per both, for a date range and the dashboard's filters.

An event counts under its own recommendation_type and model_version (clients quote the
version of the list they showed, docs/events.md). The rate is clicked / shown and is
not capped: clicks without their shown events would lift it above 1, which says the
client's events are incomplete rather than hiding it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from analytics_svc.eventstore.base import EventStore
from analytics_svc.requests import DashboardParams


@dataclass(frozen=True)
class ClickThrough:
    recommendation_type: str = ""
    model_version: str = ""
    shown: int = 0
    clicked: int = 0

    @property
    def rate(self) -> float:
        return self.clicked / self.shown if self.shown else 0.0


@dataclass
class ClickThroughReport:
    start: str
    end: str
    total: ClickThrough = field(default_factory=ClickThrough)
    by_type: list[ClickThrough] = field(default_factory=list)
    by_model_version: list[ClickThrough] = field(default_factory=list)
    by_model_version_and_type: list[ClickThrough] = field(default_factory=list)
    source: str = "raw"


async def build(events: EventStore, params: DashboardParams) -> ClickThroughReport:
    """`events`: the event store (PostgreSQL: rollup + raw days; ClickHouse: raw events)."""
    rows, source = await events.recommendation_clicks(params)
    cells = [
        ClickThrough(r["recommendation_type"], r["model_version"], r["shown"], r["clicked"]) for r in rows
    ]
    report = summarize(cells)
    report.start, report.end, report.source = str(params.start), str(params.end), source
    return report


def summarize(cells: list[ClickThrough]) -> ClickThroughReport:
    """Totals per kind, per version and overall from the (kind, version) cells."""
    per_type: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_version: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for cell in cells:
        for sums in (per_type[cell.recommendation_type], per_version[cell.model_version]):
            sums[0] += cell.shown
            sums[1] += cell.clicked
    by_type = _most_shown([ClickThrough(kind, "", *sums) for kind, sums in per_type.items()])
    by_version = _most_shown([ClickThrough("", version, *sums) for version, sums in per_version.items()])
    version_order = {row.model_version: i for i, row in enumerate(by_version)}
    both = sorted(
        cells, key=lambda c: (version_order[c.model_version], -c.shown, -c.clicked, c.recommendation_type)
    )
    total = ClickThrough("", "", sum(c.shown for c in cells), sum(c.clicked for c in cells))
    return ClickThroughReport("", "", total, by_type, by_version, both)


def _most_shown(rows: list[ClickThrough]) -> list[ClickThrough]:
    return sorted(rows, key=lambda r: (-r.shown, -r.clicked, r.recommendation_type, r.model_version))
