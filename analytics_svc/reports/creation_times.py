"""The dashboard's creation-time distribution (count, mean, median, p90) from the daily
creation-time histograms (daily_creation_histograms: every distinct stored value of
the day and filter combination with its count; raw events for days not rolled up).

Exact: the histograms keep the stored float4 values themselves, so the percentiles are
those of `percentile_cont` over all the values (linear interpolation between the two
closest ranks); the mean is the count-weighted sum in float64.
"""

from __future__ import annotations

from datetime import date

import asyncpg
import numpy as np

from analytics_svc.figures import Distribution
from analytics_svc.queries import daily, sequences

PAIR = np.dtype([("value", ">f4"), ("count", ">i4")])


def distribution(histograms: list[bytes]) -> Distribution:
    pairs = np.frombuffer(b"".join(histograms), dtype=PAIR)
    if pairs.size == 0:
        return Distribution()
    values, inverse = np.unique(pairs["value"].astype(np.float64), return_inverse=True)
    counts = np.bincount(inverse, weights=pairs["count"].astype(np.float64)).astype(np.int64)
    total = int(counts.sum())
    ends = np.cumsum(counts)  # values[i] holds the ranks ends[i-1] .. ends[i]-1

    def percentile(q: float) -> float:
        pos = q * (total - 1)
        low = int(np.floor(pos))
        high = min(low + 1, total - 1)
        a = values[np.searchsorted(ends, low, side="right")]
        b = values[np.searchsorted(ends, high, side="right")]
        return float(a + (b - a) * (pos - low))

    mean = float(np.dot(values, counts) / total)
    return Distribution(total, mean, percentile(0.5), percentile(0.9))


async def compute(pool: asyncpg.Pool, start: date, end: date, filters) -> Distribution:
    cov = await daily.coverage(pool, start, end, sequences.VERSION)
    return distribution(await sequences.creation_histograms(pool, cov, filters))
