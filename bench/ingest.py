"""Ingestion benchmark: events/s and acknowledgement latency, beside the raw COPY rate.

    PYTHONPATH=.:gen python -m bench.ingest [--duration 10] [--repeats 3] [--workers 1] [--write-docs]

Starts `python -m analytics_svc` (N workers on one port with --workers) against a fresh
database on the PostgreSQL at --admin-url (or an embedded one with --embedded),
drives it through gRPC with batches of 1 and 100 (and through the HTTP gateway
when this tree has the `gateway` package), and measures the anchor: asyncpg
copy_records_to_table of the same rows into an identical table, same machine,
same run. Phases are interleaved over the repeats so that noise from other users
of the machine spreads evenly; the median run of each phase is reported.

A phase `gateway-100@0.5` (any transport, batch and fraction) is open loop: calls at a fixed
rate, that fraction of the events/s its closed-loop phase (`gateway-100`, listed before it)
reached in the same repeat; latency counts from each call's scheduled time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import platform
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from storyverse.analytics.v1 import analytics_service_pb2 as pb

from bench import anchor, dataset, docs
from bench.load import PhaseResult, cpu_seconds, median_of, process_tree, run_phase, summary
from common.settings import REPO_ROOT

METHOD = "/storyverse.analytics.v1.AnalyticsService/"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--embedded", action="store_true", help="start an embedded PostgreSQL instead")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--workers", type=int, default=1, help="SV_ANALYTICS_WORKERS: processes sharing the port"
    )
    parser.add_argument(
        "--connections", type=int, default=0, help="gRPC connections (0: 1, or 8 per worker with workers)"
    )
    parser.add_argument("--service-module", default="analytics_svc", help="what `python -m` runs")
    parser.add_argument("--gateway-workers", type=int, default=0, help="SV_GATEWAY_WORKERS (0: one per core)")
    parser.add_argument("--conc-1", type=int, default=64, help="concurrent callers, batches of 1")
    parser.add_argument("--conc-100", type=int, default=16, help="concurrent callers, batches of 100")
    parser.add_argument("--anchor-rows", type=int, default=100_000)
    parser.add_argument(
        "--anchor-table",
        choices=("fresh", "events"),
        default="fresh",
        help="COPY into a fresh table LIKE events, or into events as earlier phases left it (anchor.py)",
    )
    parser.add_argument(
        "--prebuild-events",
        type=int,
        default=400_000,
        help="events per phase built into request bodies before the clock starts (at most 50,000 bodies)",
    )
    parser.add_argument("--phases", default="anchor,grpc-1,grpc-100,gateway-1,gateway-100")
    parser.add_argument("--write-docs", action="store_true", help="refresh the section in docs/benchmarks.md")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args))


async def run(args: argparse.Namespace) -> None:
    admin_url = args.admin_url
    if args.embedded:
        from common.database import start_embedded

        admin_url = start_embedded(Path(tempfile.mkdtemp(prefix="sv-bench-")))
    name = f"sv_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await _admin(admin_url, f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    try:
        await _bench(args, url, name)
    finally:
        if not args.keep_db:
            await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _bench(args: argparse.Namespace, url: str, db_name: str) -> None:
    wanted = args.phases.split(",")
    run_id = uuid.uuid4().hex[:6]
    templates = dataset.templates()
    ids = dataset.IdSource(run_id)
    results: dict[str, list[PhaseResult]] = {}
    anchors: list[float] = []
    with _services(url, args.workers, args.service_module) as (ports, service_pids):
        gateway_port, gateway_pid, gateway_origin = None, None, None
        stack = contextlib.ExitStack()
        if any(p.startswith("gateway") for p in wanted):
            origin = _gateway_in_tree()
            try:
                if origin is None:
                    raise RuntimeError("gateway not present")
                gateway_port, gateway_pid = stack.enter_context(_gateway(ports[0], args.gateway_workers))
                gateway_origin = f"`python -m gateway` from {origin}"
            except RuntimeError as exc:
                print(f"{exc}: HTTP phases skipped", flush=True)
                wanted = [p for p in wanted if not p.startswith("gateway")]
        with stack:
            rows = anchor.anchor_rows(templates, args.anchor_rows, ids) if "anchor" in wanted else []
            pids = _pid_source(url, db_name, service_pids, gateway_pid)
            for repeat in range(args.repeats):
                for phase in wanted:
                    if phase == "anchor":
                        if args.anchor_table == "events":  # rows stay there: new ids each time
                            if repeat:
                                rows = anchor.anchor_rows(templates, args.anchor_rows, ids)
                            anchors.append(await anchor.copy_rate(url, rows, chunk=5000, table="events"))
                        else:
                            anchors.append(await anchor.copy_rate(url, rows, chunk=5000))
                        print(
                            f"[{repeat + 1}/{args.repeats}] anchor COPY {anchors[-1]:>9,.0f} rows/s"
                            f" ({args.anchor_table} table)",
                            flush=True,
                        )
                        continue
                    transport, batch = phase.split("-")
                    batch, _, fraction = batch.partition("@")
                    conc = args.conc_1 if batch == "1" else args.conc_100
                    result = PhaseResult(phase, int(batch), conc)
                    prebuilt = min(50_000, args.prebuild_events // int(batch))
                    if fraction:  # open loop at a fraction of this repeat's closed-loop rate
                        closed = results[f"{transport}-{batch}"][-1]
                        calls_per_second = float(fraction) * closed.events_per_second / int(batch)
                        sender = (
                            _grpc_sender(ports, int(batch), 8 * args.workers)
                            if transport == "grpc"
                            else _http_sender(gateway_port, int(batch))
                        )
                        requests = dataset.ProtoRequests if transport == "grpc" else dataset.JsonRequests
                        needed = int(calls_per_second * (args.duration + args.warmup)) + 1000
                        async with sender as send:
                            build = requests(templates, ids).build
                            await run_open_phase(
                                result,
                                build,
                                send,
                                calls_per_second,
                                args.duration,
                                args.warmup,
                                pids,
                                min(prebuilt, needed),
                            )
                        results.setdefault(phase, []).append(result)
                        print(f"[{repeat + 1}/{args.repeats}] {result.line()}", flush=True)
                        continue
                    if transport == "grpc":
                        # Workers share the port: the kernel spreads connections over them.
                        connections = args.connections or (
                            1 if args.workers == 1 else min(conc, 8 * args.workers)
                        )
                        async with _grpc_sender(ports, int(batch), connections) as send:
                            build = dataset.ProtoRequests(templates, ids).build
                            await run_phase(result, build, send, args.duration, args.warmup, pids, prebuilt)
                    else:
                        async with _http_sender(gateway_port, int(batch)) as send:
                            build = dataset.JsonRequests(templates, ids).build
                            await run_phase(result, build, send, args.duration, args.warmup, pids, prebuilt)
                    results.setdefault(phase, []).append(result)
                    print(f"[{repeat + 1}/{args.repeats}] {result.line()}", flush=True)
    print("\nmedians:")
    anchor_rate = sorted(anchors)[len(anchors) // 2] if anchors else 0.0
    if anchors:
        print(f"anchor COPY: {summary(anchors)} rows/s")
    medians = []
    for runs in results.values():
        best = median_of(runs)
        medians.append(best)
        share = f"  = {best.events_per_second / anchor_rate:.0%} of COPY" if anchor_rate else ""
        print(f"{best.line()}{share}")
        print(f"    {summary([r.events_per_second for r in runs])} ev/s")
        if len(anchors) == len(runs) > 1:
            print(f"    each run vs its repeat's anchor: {' / '.join(docs.per_run_shares(runs, anchors))}")
    if args.write_docs:
        command = "PYTHONPATH=.:gen python -m bench.ingest " + shlex.join(sys.argv[1:])
        docs.write_section(
            REPO_ROOT / "docs" / "benchmarks.md",
            machine=_machine(),
            command=command,
            data_set=dataset.DESCRIPTION.format(templates=len(templates)),
            anchor_runs=anchors,
            medians=medians,
            results=results,
            args=args,
            gateway=gateway_origin,
        )
        print("docs/benchmarks.md updated")


async def run_open_phase(
    result: PhaseResult,
    build: Callable[[int], bytes],
    send: Callable[[bytes], Awaitable[int]],
    calls_per_second: float,
    duration: float,
    warmup: float,
    pids: Callable[[], Awaitable[dict]],
    prebuilt: int,
    max_in_flight: int = 1024,
) -> PhaseResult:
    """Calls at a fixed rate (open loop); latency from each call's scheduled time, so a stall
    counts for every call it delayed. Calls scheduled in the measured window count."""
    ready = deque(build(result.batch) for _ in range(prebuilt))
    interval = 1.0 / calls_per_second
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration
    in_flight: set[asyncio.Task] = set()
    result.concurrency = 0  # reported as the most calls in flight at once
    groups: dict[str, list[int]] = {}
    cpu_before: dict[str, float] = {}
    timeline: list[tuple[float, float]] = []  # (seconds into the window, latency) per call

    async def one(body: bytes, scheduled: float) -> None:
        try:
            acked = await send(body)
        except Exception:  # noqa: BLE001 - counted, the run goes on
            result.errors += 1
            return
        if measure_from <= scheduled < stop_at:
            result.calls += 1
            result.events += acked
            result.latencies.append(time.perf_counter() - scheduled)
            timeline.append((scheduled - measure_from, result.latencies[-1]))

    n = 0
    sampled = False
    while True:
        scheduled = start + n * interval
        if scheduled >= stop_at:
            break
        now = time.perf_counter()
        if scheduled > now:
            await asyncio.sleep(scheduled - now)
        if not sampled and scheduled >= measure_from:
            sampled = True
            groups.update(await pids())
            cpu_before.update(cpu_seconds(groups))
        if len(in_flight) >= max_in_flight:
            result.errors += 1  # the service fell this far behind: a call not made
        else:
            body = ready.popleft() if ready else build(result.batch)
            task = asyncio.create_task(one(body, scheduled))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            result.concurrency = max(result.concurrency, len(in_flight))
        n += 1
    cpu_after = cpu_seconds(groups)
    if in_flight:
        await asyncio.wait(in_flight, timeout=30)
    result.seconds = duration
    result.cpu = {k: (cpu_after[k] - cpu_before.get(k, 0.0)) / duration for k in cpu_after}
    print(f"    slowest seconds of the window: {slowest_seconds(timeline)}", flush=True)
    return result


def slowest_seconds(timeline: list[tuple[float, float]], shown: int = 3) -> str:
    """Where an open-loop tail comes from: the seconds of the window with the worst latencies
    (a stall shows as one or two seconds, steady queueing as all of them)."""
    worst: dict[int, float] = {}
    for offset, latency in timeline:
        second = int(offset)
        worst[second] = max(worst.get(second, 0.0), latency)
    ranked = sorted(worst.items(), key=lambda kv: -kv[1])[:shown]
    return ", ".join(f"{second} s: max {latency * 1000:.0f} ms" for second, latency in ranked) or "none"


def _pid_source(
    url: str, db_name: str, service_pids: Callable[[], list[int]], gateway_pid: int | None
) -> Callable[[], Awaitable[dict]]:
    async def pids() -> dict[str, list[int]]:
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", db_name
            )
        finally:
            await conn.close()
        groups = {"service": service_pids(), "postgres": [r[0] for r in rows], "bench": [os.getpid()]}
        if gateway_pid is not None:
            groups["gateway"] = process_tree(gateway_pid)  # the supervisor's workers
        return groups

    return pids


@contextlib.asynccontextmanager
async def _grpc_sender(ports: list[int], batch: int, connections: int):
    name = "RecordEvent" if batch == 1 else "RecordEvents"
    response_type = pb.RecordEventResponse if batch == 1 else pb.RecordEventsResponse
    # Each channel its own TCP connection (no shared subchannel): the kernel spreads
    # connections, not calls, over the workers sharing the port.
    options = [("grpc.use_local_subchannel_pool", 1)]
    channels = [
        grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=options)
        for port in ports
        for _ in range(connections)
    ]
    # Bytes in, bytes out: the requests are already serialized.
    calls = [channel.unary_unary(METHOD + name) for channel in channels]
    turn = 0

    async def send(body: bytes) -> int:
        nonlocal turn
        turn += 1
        reply = response_type.FromString(await calls[turn % len(calls)](body))
        return reply.result.accepted + reply.result.duplicates

    try:
        yield send
    finally:
        for channel in channels:
            await channel.close()


@contextlib.asynccontextmanager
async def _http_sender(port: int | None, batch: int):
    import aiohttp

    path = "/api/analytics/events" if batch == 1 else "/api/analytics/events:batch"
    target = f"http://127.0.0.1:{port}{path}"
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def send(body: bytes) -> int:
            async with session.post(target, data=body, headers={"content-type": "application/json"}) as r:
                if r.status != 200:
                    raise RuntimeError(f"HTTP {r.status}: {(await r.text())[:200]}")
                result = (await r.json()).get("result", {})
                return int(result.get("accepted", 0)) + int(result.get("duplicates", 0))

        yield send


@contextlib.contextmanager
def _services(url: str, workers: int, module: str) -> Iterator[tuple[list[int], Callable[[], list[int]]]]:
    """One `python -m <module>` on one port; with workers > 1 it supervises that many
    workers sharing the port (SV_ANALYTICS_WORKERS). Yields the ports and a function
    giving the service's pids (the supervisor's workers change when one is restarted)."""
    port = _free_port()
    env = {
        **os.environ,
        "SV_DATABASE_URL": url,
        "SV_ANALYTICS_PORT": str(port),
        "SV_ANALYTICS_WORKERS": str(workers),
        "SV_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen([sys.executable, "-m", module], cwd=REPO_ROOT, env=env)

    def pids() -> list[int]:
        return process_tree(process.pid)

    try:
        _wait_serving(f"127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        while workers > 1 and len(pids()) < workers + 1:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{workers} workers did not start")
            time.sleep(0.1)
        yield [port], pids
    finally:
        _stop([process])


def _gateway_in_tree() -> Path | None:
    """This tree's gateway package, when it has one and it is the one `python -m` finds
    (an editable install elsewhere may provide another, built against another `common`)."""
    spec = importlib.util.find_spec("gateway")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).resolve().parent
    return folder if folder == (REPO_ROOT / "gateway").resolve() else None


@contextlib.contextmanager
def _gateway(analytics_port: int, workers: int) -> Iterator[tuple[int, int]]:
    port = _free_port()
    env = {
        **os.environ,
        "SV_ANALYTICS_TARGET": f"127.0.0.1:{analytics_port}",
        "SV_GATEWAY_PORT": str(port),
        "SV_GATEWAY_WORKERS": str(workers),
        "SV_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen([sys.executable, "-m", "gateway"], cwd=REPO_ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the gateway did not start (its output is above)")
            time.sleep(0.1)
        yield port, process.pid
    finally:
        _stop([process])


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_serving(target: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            with contextlib.suppress(grpc.RpcError):
                if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                    return
            time.sleep(0.1)
    raise TimeoutError(f"{target} did not become SERVING")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores (nproc), {model}, {system}, Python {platform.python_version()}"


if __name__ == "__main__":
    main()
