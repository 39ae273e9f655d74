"""RPC performance: per-minute statistics from the interceptor's observer hook, and
the performance report built from them.

`RpcStats.observe` is a CallObserver (common/interceptors.py): called after every RPC
with (method, status code, seconds). It keeps, per minute and method, the calls, the
non-OK calls, the total time and a latency histogram with fixed log-spaced bounds
(each bound √2 × the previous, 0.25 ms .. ~5 min), so histograms of replicas and
minutes add up exactly. Every few seconds this replica's running totals are written
to rpc_minute_stats (replacing its own rows), so the report of any replica sees all.
Percentiles are read from the merged histogram: the upper bound of the bucket holding
the percentile, i.e. at most √2 above the true value.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from bisect import bisect_left
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import asyncpg

from analytics_svc.figures import Report, Table
from analytics_svc.queries import performance as sql
from analytics_svc.requests import ReportParams, day_start
from common.periodic import Periodic

BOUNDS = [0.00025 * 2 ** (i / 2) for i in range(42)]  # seconds; one more bucket for the rest
FLUSH_SECONDS = 10.0


def bucket_of(seconds: float) -> int:
    return bisect_left(BOUNDS, seconds)


def percentile(histogram: list[int], q: float) -> float:
    """Upper bound (seconds) of the bucket holding the q-quantile; 0 for no calls."""
    total = sum(histogram)
    if not total:
        return 0.0
    rank = q * total
    running = 0
    for i, n in enumerate(histogram):
        running += n
        if running >= rank and n:
            return BOUNDS[i] if i < len(BOUNDS) else BOUNDS[-1] * 2
    return BOUNDS[-1] * 2


class RpcStats:
    def __init__(self, pool: asyncpg.Pool, replica: str | None = None) -> None:
        self.pool = pool
        self.replica = replica or uuid.uuid4().hex[:12]
        self._minutes: dict[tuple[datetime, str], list] = {}
        self._dirty: set[tuple[datetime, str]] = set()
        self._flusher: Periodic | None = None

    def observe(self, method: str, code: str, seconds: float) -> None:
        """The CallObserver: cheap, synchronous, never raises into the RPC path."""
        minute = datetime.fromtimestamp(time.time() // 60 * 60, UTC)
        key = (minute, method)
        entry = self._minutes.get(key)
        if entry is None:
            entry = self._minutes[key] = [0, 0, 0.0, [0] * (len(BOUNDS) + 1)]
        entry[0] += 1
        entry[1] += code != "OK"
        entry[2] += seconds
        entry[3][bucket_of(seconds)] += 1
        self._dirty.add(key)

    def start(self, flush_seconds: float = FLUSH_SECONDS) -> None:
        self._flusher = Periodic("rpc stats flush", self.flush, flush_seconds)
        self._flusher.start()

    async def flush(self) -> None:
        dirty, self._dirty = self._dirty, set()
        rows = [(m, meth, *self._copy(self._minutes[(m, meth)])) for m, meth in sorted(dirty)]
        try:
            await sql.save(self.pool, self.replica, rows)
        except Exception:
            self._dirty |= dirty
            raise
        old = datetime.now(UTC) - timedelta(minutes=2)
        for key in [k for k in self._minutes if k[0] < old and k not in self._dirty]:
            del self._minutes[key]

    @staticmethod
    def _copy(entry: list) -> tuple:
        return entry[0], entry[1], entry[2], list(entry[3])

    async def aclose(self) -> None:
        if self._flusher is not None:
            await self._flusher.stop()
        with contextlib.suppress(Exception):
            await self.flush()


async def report(pool: asyncpg.Pool, params: ReportParams) -> Report:
    lo, hi = day_start(params.start), day_start(params.end + timedelta(days=1))
    rows, lag_rows = await asyncio.gather(
        sql.minutes(pool, lo, hi), sql.ingestion_lag(pool, lo, hi, params.granularity)
    )
    per_method: dict[str, list] = {}
    over_time: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        entry = per_method.setdefault(
            r["method"], [0, 0, 0.0, [0] * (len(BOUNDS) + 1), r["minute"], r["minute"]]
        )
        entry[0] += r["calls"]
        entry[1] += r["errors"]
        entry[2] += r["seconds"]
        entry[3] = [a + b for a, b in zip(entry[3], r["buckets"], strict=True)]
        entry[5] = r["minute"]
        bucket = _bucket(r["minute"], params.granularity)
        over_time[(bucket, r["method"])][0] += r["calls"]
        over_time[(bucket, r["method"])][1] += r["errors"]
    rpc = Table(
        "rpc",
        [
            "method",
            "calls",
            "requests_per_second",
            "mean_ms",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "errors",
            "error_rate",
        ],
    )
    for method, (calls, errors, seconds, hist, first, last) in sorted(per_method.items()):
        span = (last - first).total_seconds() + 60  # minutes with traffic, inclusive
        rpc.rows.append(
            [
                method,
                calls,
                calls / span,
                seconds / calls * 1000,
                *(percentile(hist, q) * 1000 for q in (0.5, 0.95, 0.99)),
                errors,
                errors / calls,
            ]
        )
    trend = Table(
        "rpc_over_time",
        ["bucket", "method", "calls", "errors"],
        [[b, m, c, e] for (b, m), (c, e) in sorted(over_time.items())],
    )
    lag = Table(
        "ingestion_lag",
        ["bucket", "events", "lag_p50_seconds", "lag_p99_seconds"],
        [
            [
                _bucket(r["bucket"].replace(tzinfo=UTC), params.granularity),
                r["events"],
                float(r["lag"][0]),
                float(r["lag"][1]),
            ]
            for r in lag_rows
        ],
    )
    calls = sum(e[0] for e in per_method.values())
    errors = sum(e[1] for e in per_method.values())
    summary = {
        "calls": calls,
        "errors": errors,
        "error_rate": errors / calls if calls else 0.0,
        "stored_events": sum(r["events"] for r in lag_rows),
    }
    return Report(params.report_type, str(params.start), str(params.end), [rpc, trend, lag], summary, "raw")


def _bucket(at: datetime, granularity: str) -> str:
    if granularity == "hour":
        return at.replace(minute=0, second=0, microsecond=0).isoformat().replace("+00:00", "Z")
    day = at.date()
    if granularity == "week":
        day -= timedelta(days=day.weekday())
    return str(day)
