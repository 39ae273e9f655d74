"""Closed-loop load: a fixed number of callers, each sending one request and waiting
for its answer, for a bounded time. Latency is the acknowledgement time of a call
(the service answers only after COMMIT).

Request bodies are built before the clock starts (up to `prebuilt` of them), as the
anchor's rows are: the load generator shares the cores with the service, and a real
client's cost of building its requests is not the service's. Bodies the run needed
beyond those are built on the fly and counted (`built_live`)."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Send = Callable[[bytes], Awaitable[int]]  # sends one body, returns the events acknowledged


@dataclass
class PhaseResult:
    name: str
    batch: int
    concurrency: int
    seconds: float = 0.0
    calls: int = 0
    events: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # cores used, by process group
    built_live: int = 0  # bodies built during the run, when the prebuilt ones ran out

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def cpu_per_event(self, group: str) -> float:
        """CPU microseconds per event spent by a process group: robust to a busy machine."""
        return self.cpu.get(group, 0.0) / self.events_per_second * 1e6 if self.events else float("nan")

    def _groups(self) -> tuple[str, ...]:
        if self.name.startswith("gateway"):
            return ("service", "gateway", "postgres", "bench")
        return ("service", "postgres", "bench")

    def line(self) -> str:
        cpu = " ".join(f"{k}={self.cpu.get(k, 0.0):.2f}" for k in (*self._groups(), "machine"))
        per_event = " ".join(f"{k}={self.cpu_per_event(k):.1f}" for k in self._groups())
        return (
            f"{self.name:<24} batch={self.batch:<4} conc={self.concurrency:<3} "
            f"{self.events_per_second:>9,.0f} ev/s  {self.calls / self.seconds:>7,.0f} calls/s  "
            f"p50={self.percentile(0.5) * 1000:7.2f} ms  p99={self.percentile(0.99) * 1000:7.2f} ms  "
            f"errors={self.errors}  cores[{cpu}]  µs-cpu/event[{per_event}]"
            + (f"  built-during-run={self.built_live}" if self.built_live else "")
        )


def median_of(results: list[PhaseResult]) -> PhaseResult:
    """The run with the median throughput (its latencies travel with it)."""
    ordered = sorted(results, key=lambda r: r.events_per_second)
    return ordered[len(ordered) // 2]


async def run_phase(
    result: PhaseResult,
    build: Callable[[int], bytes],
    send: Send,
    duration: float,
    warmup: float,
    pids: Callable[[], Awaitable[dict[str, list[int]]]],
    prebuilt: int = 0,
) -> PhaseResult:
    ready = deque(build(result.batch) for _ in range(prebuilt))
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration
    cpu_before: dict[str, float] = {}
    groups: dict[str, list[int]] = {}

    async def caller() -> None:
        while True:
            if ready:
                body = ready.popleft()
            else:
                body = build(result.batch)
                result.built_live += 1
            t0 = time.perf_counter()
            if t0 >= stop_at:
                return
            try:
                acked = await send(body)
            except Exception:  # noqa: BLE001 - counted, the run goes on
                result.errors += 1
                continue
            t1 = time.perf_counter()
            if t0 >= measure_from and t1 <= stop_at:
                result.calls += 1
                result.events += acked
                result.latencies.append(t1 - t0)

    async def sample_cpu() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        groups.update(await pids())  # after the warm-up: the pool has opened its connections
        cpu_before.update(cpu_seconds(groups))

    sampler = asyncio.create_task(sample_cpu())
    await asyncio.gather(*(caller() for _ in range(result.concurrency)))
    await sampler
    result.seconds = duration
    after = cpu_seconds(groups)
    result.cpu = {k: (after[k] - cpu_before.get(k, 0.0)) / duration for k in after}
    return result


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds used so far by each group of processes, and by the whole machine."""
    out = {}
    for name, group in pids.items():
        total = 0.0
        for pid in group:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / _TICK
            except OSError:
                pass
        out[name] = total
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    out["machine"] = (sum(values) - values[3] - values[4]) / _TICK  # all but idle and iowait
    return out


def process_tree(pid: int) -> list[int]:
    """The process and its children (a supervisor and its workers)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [pid, *(int(child) for child in f.read().split())]
    except OSError:
        return [pid]


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):,.0f} (runs: {', '.join(f'{v:,.0f}' for v in values)})"
