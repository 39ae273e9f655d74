"""Feedback surge: a fixed rate of SubmitFeedback for a bounded time, then the analysis backlog.

    PYTHONPATH=.:gen python -m bench.feedback [--rate 2000] [--duration 60] [--drain-timeout 600]
                                              [--write-docs]

Starts `python -m feedback_svc` (the ONNX sentiment model, in-process bus) against a fresh
database on --admin-url and sends pre-serialized unique requests (bench/feedback_data.py)
open-loop: request i is due at start + i / rate, whether or not earlier ones were answered
(at most --max-in-flight outstanding; one that is due past that is counted as not sent).
RESOURCE_EXHAUSTED is retried after the server's retry-after hint, as a client should.

Reports the achieved rate, the acknowledgement latency (measured from the time a request
was due, so a slow service cannot hide behind a slow client), errors, and then:
- lost: acknowledged feedback_ids that are not in PostgreSQL (must be 0);
- analysis lag: from the acknowledgement to `analyzed_at`, p50/p99/max, and how long after
  the surge the backlog took to drain (or what is left after --drain-timeout);
- CPU µs per submission from /proc: "intake" = the service's normal-priority threads during the
  surge (gRPC, SubmitFeedback, and the analysis' work on the event loop: aspects, queries,
  alerts), "analysis" = its lower-priority scoring thread (the model) over surge and drain, per
  analysed row; PostgreSQL's backends of the bench database (surge and drain); the bench itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import grpc
from storyverse.feedback.v1 import feedback_service_pb2 as pb

from bench import docs, feedback_data
from bench.ingest import _admin, _free_port, _machine, _stop, _wait_serving
from bench.load import cpu_seconds
from common.settings import REPO_ROOT

METHOD = "/storyverse.feedback.v1.FeedbackService/SubmitFeedback"
HEADING = "## Feedback surge (`bench/feedback.py`)"
_TICK = os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rate", type=float, default=2000.0, help="submissions per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of surge")
    parser.add_argument("--max-in-flight", type=int, default=5000)
    parser.add_argument("--channels", type=int, default=8, help="HTTP/2 connections (2 saw CANCELLED)")
    parser.add_argument("--drain-timeout", type=float, default=600.0, help="seconds to wait for the backlog")
    parser.add_argument("--service-module", default="feedback_svc")
    parser.add_argument("--write-docs", action="store_true", help="refresh the section in docs/benchmarks.md")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args))


async def run(args: argparse.Namespace) -> None:
    name = f"sv_bench_fb_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await _admin(args.admin_url, f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(args.admin_url)._replace(path=f"/{name}"))
    try:
        await _bench(args, url, name)
    finally:
        if not args.keep_db:
            await _admin(args.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Surge:
    def __init__(self, n: int) -> None:
        self.due = [0.0] * n
        self.acked_at = [0.0] * n  # wall clock (time.time) of the acknowledgement, 0 = none
        self.latency: list[float] = []
        self.errors: dict[str, int] = {}
        self.details: dict[str, str] = {}  # the first message of each error code
        self.retries = 0
        self.not_sent = 0
        self.in_flight = 0
        self.max_late = 0.0  # how far behind schedule the client fell


async def _send_all(surge: Surge, bodies: list[bytes], calls, rate: float, max_in_flight: int) -> float:
    tasks: set[asyncio.Task] = set()

    async def one(i: int, due: float) -> None:
        surge.in_flight += 1
        try:
            for attempt in range(6):
                try:
                    await calls[i % len(calls)](bodies[i], timeout=30)
                    surge.acked_at[i] = time.time()
                    surge.latency.append(time.perf_counter() - due)
                    return
                except grpc.aio.AioRpcError as exc:
                    if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and attempt < 5:
                        hint = dict(exc.trailing_metadata() or ()).get("retry-after", "1")
                        surge.retries += 1
                        await asyncio.sleep(float(hint))
                        continue
                    surge.errors[exc.code().name] = surge.errors.get(exc.code().name, 0) + 1
                    surge.details.setdefault(exc.code().name, exc.details())
                    return
        finally:
            surge.in_flight -= 1

    start = time.perf_counter() + 0.05
    sent = 0
    while sent < len(bodies):
        now = time.perf_counter()
        due_count = min(len(bodies), int((now - start) * rate) + 1)
        while sent < due_count:
            due = start + sent / rate
            surge.max_late = max(surge.max_late, now - due)
            if surge.in_flight >= max_in_flight:
                surge.not_sent += 1
            else:
                task = asyncio.create_task(one(sent, due))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            sent += 1
        await asyncio.sleep(0.001)
    end = start + len(bodies) / rate
    if tasks:
        await asyncio.wait(tasks)
    return end


def _thread_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds of a process's live threads: (normal priority, lowered priority = the scoring)."""
    normal = low = 0.0
    with contextlib.suppress(OSError):
        for tid in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            seconds = (int(fields[11]) + int(fields[12])) / _TICK
            if int(fields[16]) > 0:
                low += seconds
            else:
                normal += seconds
    return normal, low


async def _postgres_pids(url: str, db_name: str) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", db_name
        )
    finally:
        await conn.close()
    return [r[0] for r in rows]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _bench(args: argparse.Namespace, url: str, db_name: str) -> None:
    run_id = uuid.uuid4().hex[:6]
    n = int(args.rate * args.duration)
    ids, bodies, data_set = feedback_data.requests(n, run_id)
    print(f"data set: {data_set}", flush=True)
    with _service(url, args.service_module) as (port, service_pid):
        channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for _ in range(args.channels)]
        calls = [
            c.unary_unary(METHOD, response_deserializer=pb.SubmitFeedbackResponse.FromString)
            for c in channels
        ]
        db = await asyncpg.connect(url)
        try:
            # Warm-up: connections, the model's first batches; not counted.
            _, warm, _ = feedback_data.requests(200, f"{run_id}w", seed=1)
            await _send_all(Surge(len(warm)), warm, calls, 200.0, 1000)
            await _wait(db, "SELECT count(*) = 0 FROM feedback WHERE NOT analyzed", 60)
            groups = {"postgres": await _postgres_pids(url, db_name), "bench": [os.getpid()]}
            before, threads_before = cpu_seconds(groups), _thread_cpu(service_pid)
            surge = Surge(n)
            t0 = time.time()
            end = await _send_all(surge, bodies, calls, args.rate, args.max_in_flight)
            surge_seconds = time.perf_counter() - (end - n / args.rate)
            surge_end_wall = time.time()
            after, threads_after = cpu_seconds(groups), _thread_cpu(service_pid)
            acked = [i for i in range(n) if surge.acked_at[i]]
            ack_window = max(surge.acked_at) - t0 if acked else 0.0
            print(
                f"surge: {len(acked):,} acknowledged of {n:,} due in {args.duration:.0f} s "
                f"(last ack after {ack_window:.1f} s): {len(acked) / ack_window:,.0f}/s; "
                f"ack p50={_percentile(surge.latency, 0.5) * 1000:.1f} ms "
                f"p99={_percentile(surge.latency, 0.99) * 1000:.1f} ms "
                f"max={max(surge.latency, default=0) * 1000:.0f} ms; "
                f"errors={surge.errors or 0} {surge.details or ''} retries={surge.retries} "
                f"not_sent={surge.not_sent} client_late_max={surge.max_late * 1000:.0f} ms",
                flush=True,
            )
            acked_ids = [ids[i] for i in acked]
            stored = await db.fetchval(
                "SELECT count(*) FROM feedback WHERE feedback_id = ANY($1::text[])", acked_ids
            )
            lost = len(acked_ids) - stored
            backlog_at_end = await db.fetchval("SELECT count(*) FROM feedback WHERE NOT analyzed")
            print(
                f"stored: {stored:,} of {len(acked_ids):,} acknowledged (lost {lost}); "
                f"backlog at the end of the surge: {backlog_at_end:,}",
                flush=True,
            )
            drained, curve = await _drain(db, args.drain_timeout)
            drain_seconds = time.time() - surge_end_wall if drained else None
            threads_drained = _thread_cpu(service_pid)
            after_drain = cpu_seconds(groups)
            records = await db.fetch(
                "SELECT feedback_id, extract(epoch FROM analyzed_at) AS at FROM feedback"
                " WHERE analyzed AND feedback_id = ANY($1::text[])",
                acked_ids,
            )
            at = {r[0]: float(r[1]) for r in records}
            lags = [at[ids[i]] - surge.acked_at[i] for i in acked if ids[i] in at]
            left = len(acked) - len(lags)
            secs = args.duration
            intake_us = (threads_after[0] - threads_before[0]) / max(1, len(acked)) * 1e6
            analysis_us = (threads_drained[1] - threads_before[1]) / max(1, len(lags)) * 1e6
            pg_us = (after_drain["postgres"] - before["postgres"]) / max(1, len(acked)) * 1e6
            bench_us = (after["bench"] - before["bench"]) / max(1, len(acked)) * 1e6
            machine = (after["machine"] - before["machine"]) / secs
            result = {
                "rate": args.rate,
                "duration": args.duration,
                "acked": len(acked),
                "achieved": len(acked) / ack_window if ack_window else 0.0,
                "p50": _percentile(surge.latency, 0.5),
                "p99": _percentile(surge.latency, 0.99),
                "max": max(surge.latency, default=0.0),
                "errors": sum(surge.errors.values()),
                "error_kinds": surge.errors,
                "retries": surge.retries,
                "not_sent": surge.not_sent,
                "lost": lost,
                "backlog": backlog_at_end,
                "lag_p50": _percentile(lags, 0.5),
                "lag_p99": _percentile(lags, 0.99),
                "lag_max": max(lags, default=float("nan")),
                "analysed": len(lags),
                "left": left,
                "drain": drain_seconds,
                "drain_rate": _rate(curve),
                "intake_us": intake_us,
                "analysis_us": analysis_us,
                "pg_us": pg_us,
                "bench_us": bench_us,
                "machine": machine,
                "surge_seconds": surge_seconds,
            }
            print(_summary(result), flush=True)
            if args.write_docs:
                command = "PYTHONPATH=.:gen python -m bench.feedback " + shlex.join(sys.argv[1:])
                _write_docs(REPO_ROOT / "docs" / "benchmarks.md", result, command, data_set, args)
                print("docs/benchmarks.md updated")
        finally:
            await db.close()
            for channel in channels:
                await channel.close()


async def _wait(db: asyncpg.Connection, sql: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await db.fetchval(sql):
            return True
        await asyncio.sleep(0.5)
    return False


async def _drain(db: asyncpg.Connection, timeout: float) -> tuple[bool, list[tuple[float, int]]]:
    """Poll the backlog until it is empty or the timeout: (drained, [(seconds, rows left)])."""
    start = time.monotonic()
    curve = []
    while True:
        left = await db.fetchval("SELECT count(*) FROM feedback WHERE NOT analyzed")
        curve.append((time.monotonic() - start, left))
        if left == 0:
            return True, curve
        if curve[-1][0] > timeout:
            return False, curve
        if len(curve) % 30 == 0:
            print(f"  backlog {left:,} after {curve[-1][0]:.0f} s", flush=True)
        await asyncio.sleep(1.0)


def _rate(curve: list[tuple[float, int]]) -> float:
    """Rows analysed per second while draining."""
    if len(curve) < 2 or curve[-1][0] == curve[0][0]:
        return float("nan")
    return (curve[0][1] - curve[-1][1]) / (curve[-1][0] - curve[0][0])


def _summary(r: dict) -> str:
    drain = (
        f"{r['drain']:.0f} s" if r["drain"] is not None else f"not within the timeout ({r['left']:,} left)"
    )
    return (
        f"target {r['rate']:,.0f}/s for {r['duration']:.0f} s: achieved {r['achieved']:,.0f}/s, "
        f"ack p50 {r['p50'] * 1000:.1f} ms, p99 {r['p99'] * 1000:.1f} ms, errors {r['errors']}, "
        f"lost {r['lost']}\n"
        f"analysis lag (of {r['analysed']:,} analysed) p50 {r['lag_p50']:.1f} s, p99 {r['lag_p99']:.1f} s, "
        f"max {r['lag_max']:.1f} s; "
        f"backlog {r['backlog']:,} at the end of the surge, drained after {drain} "
        f"({r['drain_rate']:,.0f} rows/s while draining)\n"
        f"CPU µs/submission: service intake {r['intake_us']:.0f}, service analysis {r['analysis_us']:.0f}, "
        f"postgres {r['pg_us']:.0f}, bench {r['bench_us']:.0f}; machine cores busy {r['machine']:.2f}"
    )


def _write_docs(path: Path, r: dict, command: str, data_set: str, args: argparse.Namespace) -> None:
    """One subsection per (rate, duration), between markers: a rerun refreshes its own figures."""
    key = f"{r['rate']:.0f}x{r['duration']:.0f}"
    start, end = f"<!-- bench:feedback:{key}:start -->", f"<!-- bench:feedback:{key}:end -->"
    drain = f"{r['drain']:.0f} s" if r["drain"] is not None else f"not within {args.drain_timeout:.0f} s"
    lines = [
        start,
        f"### {r['rate']:,.0f} submissions/s for {r['duration']:.0f} s",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {_machine()} (shared with other users; cores busy during the surge: {r['machine']:.2f})",
        f"- Data set: {data_set}",
        "- Service: one `python -m feedback_svc` process (ONNX sentiment model, 1 thread at lower priority;"
        " in-process bus), PostgreSQL on the same machine, synchronous_commit on (acknowledged = committed)",
        f"- Load: open loop, {args.rate:,.0f} submissions/s due for {args.duration:.0f} s over"
        f" {args.channels} channels; latency from the time a request was due",
        f"- Command: `{command}`",
        "- CPU columns: intake = the service's normal-priority threads during the surge (gRPC,"
        " SubmitFeedback, the analysis' aspects/queries/alerts on the event loop); analysis = its"
        " scoring thread (the model), surge and drain, per analysed row; postgres = the bench"
        " database's backends, surge and drain",
        "",
        "| Achieved | Ack p50 | Ack p99 | Errors | Lost | Backlog at end | Lag p50 / p99 / max (analysed) "
        "| Drained after | CPU µs/submission: intake / analysis / postgres / bench |",
        "|---:|---:|---:|---|---:|---:|---|---:|---|",
        f"| {r['achieved']:,.0f}/s | {r['p50'] * 1000:.0f} ms | {r['p99'] * 1000:.0f} ms "
        f"| {r['errors']:,} {_kinds(r)} | {r['lost']} | {r['backlog']:,} "
        f"| {r['lag_p50']:.1f} / {r['lag_p99']:.1f} / {r['lag_max']:.1f} s ({r['analysed']:,}) | {drain}"
        f"{_left(r)} | {r['intake_us']:.0f} / {r['analysis_us']:.0f} / {r['pg_us']:.0f}"
        f" / {r['bench_us']:.0f} |",
        end,
    ]
    section = "\n".join(lines)
    text = path.read_text()
    replaced = docs.replace_section(text, start, end, section)
    path.write_text(replaced if replaced is not None else _with_new_rate(text, section))


def _with_new_rate(text: str, section: str) -> str:
    """A (rate, duration) not measured before goes after the last surge run, else at the end
    of the surge section (before the next section's heading), else in a new surge section."""
    ends = list(re.finditer(r"<!-- bench:feedback:\S+:end -->", text))
    if ends:
        return docs.insert_section(text, ends[-1].end(), section)
    if HEADING not in text:
        return docs.insert_section(text, len(text), HEADING + "\n\n" + section)
    after = text.index(HEADING) + len(HEADING)
    next_heading = text.find("\n## ", after)
    return docs.insert_section(text, next_heading if next_heading != -1 else len(text), section)


def _kinds(r: dict) -> str:
    return "(" + ", ".join(f"{k} {v:,}" for k, v in r["error_kinds"].items()) + ")" if r["errors"] else ""


def _left(r: dict) -> str:
    if r["drain"] is not None or not r["drain_rate"] or r["drain_rate"] != r["drain_rate"]:
        return ""
    return f": {r['left']:,} left, ≈ {r['left'] / r['drain_rate']:.0f} s more at {r['drain_rate']:.0f}/s"


@contextlib.contextmanager
def _service(url: str, module: str) -> Iterator[tuple[int, int]]:
    port = _free_port()
    env = {**os.environ, "SV_DATABASE_URL": url, "SV_FEEDBACK_PORT": str(port), "SV_LOG_LEVEL": "ERROR"}
    process = subprocess.Popen([sys.executable, "-m", module], cwd=REPO_ROOT, env=env)
    try:
        _wait_serving(f"127.0.0.1:{port}")
        yield port, process.pid
    finally:
        _stop([process])


if __name__ == "__main__":
    main()
