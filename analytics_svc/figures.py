"""Plain result types shared by the dashboard and the reports (no protobuf here)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Series:
    name: str
    points: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class Ranked:
    key: str
    value: float
    share: float


@dataclass
class Distribution:
    count: int = 0
    mean: float = 0.0
    median: float = 0.0
    p90: float = 0.0


@dataclass
class Table:
    name: str
    columns: list[str]
    rows: list[list[object]] = field(default_factory=list)


@dataclass
class Report:
    report_type: str
    start: str
    end: str
    tables: list[Table]
    summary: dict[str, object]
    source: str


def ranked(counts: dict[str, float], limit: int | None = 10) -> list[Ranked]:
    """Largest first (ties by key), each with its share of the total of all keys."""
    total = sum(counts.values())
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [Ranked(k, v, v / total if total else 0.0) for k, v in ordered]
