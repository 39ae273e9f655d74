"""Plain result types shared by the dashboard and the reports (no protobuf here)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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


def distribution_of(values: list[float], counts: list[int]) -> Distribution:
    """count, mean, median and p90 (as percentile_cont) of distinct values with their counts."""
    if not values:
        return Distribution()
    order = np.argsort(np.asarray(values, dtype=np.float64), kind="stable")
    values_a = np.asarray(values, dtype=np.float64)[order]
    counts_a = np.asarray(counts, dtype=np.int64)[order]
    total = int(counts_a.sum())
    ends = np.cumsum(counts_a)  # values_a[i] holds the ranks ends[i-1] .. ends[i]-1

    def percentile(q: float) -> float:
        pos = q * (total - 1)
        low = int(np.floor(pos))
        high = min(low + 1, total - 1)
        a = values_a[np.searchsorted(ends, low, side="right")]
        b = values_a[np.searchsorted(ends, high, side="right")]
        return float(a + (b - a) * (pos - low))

    mean = float(np.dot(values_a, counts_a) / total)
    return Distribution(total, mean, percentile(0.5), percentile(0.9))
