"""Recommendation latency under load: the Recommend RPC at a fixed rate, and the gateway route.

    SV_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python -m bench.reco
    python -m bench.reco --rate 500 --duration 60 --users 3000

What it does, all on loopback:
1. creates a fresh database on the server of SV_DATABASE_URL (or the embedded one), applies the
   reco migrations, loads the demo catalog (SV_RECO_CATALOG or simulator/catalog.json) and
   writes a synthetic history: --users children with age groups and favourite universes, 3-8
   stories each over 30 days, plus story views (straight into the engine's own
   reco_interactions and reco_user_age_groups: building the data set is not what is measured);
2. trains a model (python -m reco_svc.train's code) and starts `python -m reco_svc` as a
   separate process (--reco-workers processes on its port, SV_RECO_WORKERS), plus
   `python -m gateway` when the gateway package is importable (--gateway-workers);
3. warms every user's features once on every connection (so in every worker), then sends
   Recommend calls open-loop at --rate per second for --duration seconds (each call is
   scheduled; latency counts from the scheduled time, so a stalled server cannot hide
   queueing), at most --max-in-flight outstanding;
4. the same for GET /api/recommendations/characters through the gateway;
5. times onnxruntime alone on the served model with the same inputs (batch 1, k = 30).

Targets: p99 <= 10 ms through gRPC, <= 20 ms through the gateway.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import grpc
import numpy as np
from storyverse.recommendation.v1 import recommendation_service_pb2 as pb
from storyverse.recommendation.v1 import recommendation_service_pb2_grpc as pb_grpc

from bench.load import cpu_seconds, process_tree
from common.database import database_url
from common.migrations import apply_migrations
from common.settings import REPO_ROOT, Settings
from reco_svc import store
from reco_svc.age_rules import AGE_GROUPS, allowed
from reco_svc.artifact import ModelArtifact, in_memory
from reco_svc.catalog import demo_entries
from reco_svc.config import RecoConfig

DEVICES = ["tablet", "tablet", "phone", "desktop", "tv"]
# gRPC connections the bench opens per engine worker (connections, not calls, are spread).
CHANNELS_PER_WORKER = 4
INTERACTION_COLUMNS = [
    "event_id", "user_id", "event_type", "ts", "story_id", "universes", "characters",
    "theme", "moral_lesson", "device_type", "age_group",
]  # fmt: skip


def engine_channels(port: int, workers: int) -> list[grpc.aio.Channel]:
    """Channels with connections of their own, CHANNELS_PER_WORKER per worker: the engine's
    workers share the port and the kernel spreads connections, not calls (common/workers.py)."""
    return [
        grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(CHANNELS_PER_WORKER * workers)
    ]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) * 1000 if values else float("nan")


def synthetic_events(entries, users: int, seed: int) -> tuple[list[tuple], list[tuple[str, str, list, list]]]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    by_kind = {
        k: [e for e in entries if e.kind == k] for k in ("universe", "character", "theme", "moral_lesson")
    }
    rows: list[tuple] = []
    people: list[tuple[str, str, list, list]] = []
    stories: list[tuple[str, str]] = []
    for n in range(users):
        user = f"bench-user-{n}"
        group = rng.choice(list(AGE_GROUPS))
        fit = {k: [e for e in v if allowed(e.min_age, e.max_age, group)] for k, v in by_kind.items()}
        if not fit["universe"]:
            continue
        favourites = rng.sample(fit["universe"], k=min(3, len(fit["universe"])))
        device = rng.choice(DEVICES)
        picked_chars: list[str] = []
        for _ in range(rng.randint(3, 8)):
            universes = rng.sample(favourites, k=rng.randint(1, min(2, len(favourites))))
            chars = [c for c in fit["character"] if c.universe in {u.id for u in universes}]
            characters = rng.sample(chars, k=min(len(chars), rng.randint(1, 3)))
            picked_chars += [c.id for c in characters]
            story = f"bench-story-{uuid.uuid4().hex[:12]}"
            ts = now - timedelta(days=rng.random() * 30)
            theme = rng.choice(fit["theme"]).id if fit["theme"] else None
            lesson = rng.choice(fit["moral_lesson"]).id if fit["moral_lesson"] else None
            rows.append(
                (f"evt-{uuid.uuid4().hex}", user, None, "story_creation", ts, story,
                 [u.id for u in universes], [c.id for c in characters], theme, lesson, device, "ios", group)
            )  # fmt: skip
            stories.append((story, group))
        for story, story_group in rng.sample(stories, k=min(len(stories), rng.randint(0, 6))):
            if story_group == group:
                ts = now - timedelta(days=rng.random() * 20)
                rows.append(
                    (f"evt-{uuid.uuid4().hex}", user, None, rng.choice(["story_view", "story_completed"]), ts,
                     story, None, None, None, None, device, "ios", group)
                )  # fmt: skip
        people.append((user, group, [u.id for u in favourites], picked_chars[:3]))
    return rows, people


async def prepare(
    admin_url: str, users: int, seed: int, data_dir: Path
) -> tuple[str, list, str, ModelArtifact]:
    name = f"sv_bench_reco_{os.getpid()}"
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
    await apply_migrations(pool, "reco", REPO_ROOT / "reco_svc" / "migrations")
    settings = Settings(database_url=url, data_dir=data_dir)
    config = RecoConfig.from_settings(settings)
    if not (config.catalog_path and config.catalog_path.is_file()):
        raise SystemExit(f"no demo catalog at {config.catalog_path}; set SV_RECO_CATALOG")
    entries = demo_entries(config.catalog_path)
    await store.load_demo(pool, entries)
    rows, people = synthetic_events(entries, users, seed)
    # The engine's own tables, as its consumer groups fill them from the bus (reco_svc/live.py).
    kept = [(r[0], r[1], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[12]) for r in rows]
    latest: dict[str, tuple] = {}
    for r in rows:
        if r[1] not in latest or latest[r[1]][2] < r[4]:
            latest[r[1]] = (r[1], r[12], r[4])
    async with pool.acquire() as c:
        await c.copy_records_to_table("reco_interactions", records=kept, columns=INTERACTION_COLUMNS)
        await c.copy_records_to_table("reco_user_age_groups", records=list(latest.values()))
    from reco_svc.offline.training_job import Progress, train

    started = time.perf_counter()
    artifact = await train(pool, settings, progress=Progress(10))
    train_seconds = time.perf_counter() - started
    await pool.close()
    dataset = (
        f"demo catalog ({len(entries)} items), {len(people)} synthetic users, {len(rows)} events "
        f"(story_creation, story_view, story_completed over 30 days); model {artifact.version}: "
        f"{artifact.description}, trained in {train_seconds:.1f} s"
    )
    return url, people, dataset, artifact


def start(module: str, env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", module],
        cwd=REPO_ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def request_for(person, rng: random.Random) -> pb.RecommendRequest:
    user, group, universes, characters = person
    return pb.RecommendRequest(
        user_id=user,
        context=pb.RecommendationContext(
            age_group=group,
            selected_universes=universes[: rng.randint(0, 1)],
            selected_characters=characters[: rng.randint(0, 2)],
            device_type="tablet",
        ),
        recommendation_types=["character"],
        limit=5,
    )


async def open_loop(send, rate: float, duration: float, max_in_flight: int) -> tuple[list[float], int, int]:
    """Schedule one call every 1/rate s; latency from the scheduled time; cap in-flight calls.

    The bench's own collector must not stall the calls it times: what lives now (the data set,
    a trained model) is frozen out of its sight first, and a call's task is dropped once done.
    Without both, full collections of the bench paused it for 73-100 ms in mid-phase (≤ 4 ms
    with them, gc.callbacks timing, 2026-12-07)."""
    gc.collect()
    gc.freeze()
    latencies: list[float] = []
    errors = dropped = 0
    in_flight = asyncio.Semaphore(max_in_flight)
    loop = asyncio.get_running_loop()
    begin = loop.time()
    total = int(rate * duration)
    tasks: set[asyncio.Task] = set()

    async def one(scheduled: float, n: int) -> None:
        nonlocal errors
        try:
            await send(n)
            latencies.append(loop.time() - scheduled)
        except Exception:  # noqa: BLE001 - counted, reported
            errors += 1
        finally:
            in_flight.release()

    for n in range(total):
        scheduled = begin + n / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if in_flight.locked():
            dropped += 1
            continue
        await in_flight.acquire()
        task = asyncio.create_task(one(scheduled, n))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    return latencies, errors, dropped


class CpuUse:
    """CPU used by groups of processes (and the whole machine) over a phase: at 500 calls/s
    on 2 cores, how close the phase ran to saturation, which decides its tail."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = groups
        self._before, self._began = cpu_seconds(groups), time.perf_counter()

    def line(self, calls: int) -> str:
        """cores[group=…] cpu-ms/call[group=…] since this was made."""
        after, seconds = cpu_seconds(self.groups), time.perf_counter() - self._began
        used = {k: after[k] - self._before.get(k, 0.0) for k in after}
        cores = " ".join(f"{k}={v / seconds:.2f}" for k, v in used.items())
        per_call = " ".join(f"{k}={used[k] / max(calls, 1) * 1000:.2f}" for k in self.groups)
        return f"cores[{cores}] cpu-ms/call[{per_call}]"


def summary(
    name: str, latencies: list[float], errors: int, dropped: int, duration: float, cpu: str = ""
) -> str:
    return (
        f"{name}: {len(latencies)} ok ({len(latencies) / duration:.0f}/s), {errors} errors, "
        f"{dropped} not sent (in-flight cap) | p50 {percentile(latencies, 50):.2f} ms, "
        f"p90 {percentile(latencies, 90):.2f} ms, "
        f"p99 {percentile(latencies, 99):.2f} ms, max {percentile(latencies, 100):.2f} ms"
        + (f" | {cpu}" if cpu else "")
    )


def onnx_timing(artifact: ModelArtifact, runs: int = 5000) -> str:
    model = in_memory(artifact)  # the graph the engine builds from the stored archive
    rng = np.random.default_rng(0)
    x = np.zeros((1, model.n_inputs), dtype=np.float32)
    allowed_mask = np.ones((1, model.n_inputs), dtype=np.float32)
    allowed_mask[0, model.n_items :] = 0
    picks = rng.choice(model.n_items, size=8, replace=False)
    x[0, picks] = 1.4
    x[0, model.n_items : model.n_items + 2] = 0.5
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        model.topk(x, allowed_mask, 30)
        times.append(time.perf_counter() - started)
    return (
        f"onnxruntime alone ({model.n_inputs}x{model.n_inputs} weights, batch 1, k=30, {runs} runs): "
        f"p50 {percentile(times, 50):.3f} ms, p99 {percentile(times, 99):.3f} ms"
    )


async def main_async(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    admin_url = database_url(settings)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-reco-"))
    print(f"preparing data set in a fresh database ({args.users} users) ...", flush=True)
    url, people, dataset, artifact = await prepare(admin_url, args.users, args.seed, data_dir)
    version = artifact.version
    reco_port, gateway_port = args.reco_port, args.gateway_port
    env = {
        **os.environ,
        "SV_DATABASE_URL": url,
        "SV_DATA_DIR": str(data_dir),
        "SV_RECO_PORT": str(reco_port),
        "SV_RECO_TARGET": f"127.0.0.1:{reco_port}",
        "SV_GATEWAY_PORT": str(gateway_port),
        "SV_LOG_LEVEL": "WARNING",
        "SV_RECO_WORKERS": str(args.reco_workers),
        "SV_GATEWAY_WORKERS": str(args.gateway_workers),
    }
    processes = [start("reco_svc", env, data_dir / "reco.log")]
    with_gateway = importlib.util.find_spec("gateway") is not None and not args.no_gateway
    if with_gateway:
        processes.append(start("gateway", env, data_dir / "gateway.log"))
    results = []
    try:
        from tests.conftest import wait_serving

        await asyncio.to_thread(wait_serving, f"127.0.0.1:{reco_port}", "", 60)
        rng = random.Random(args.seed)
        channels = engine_channels(reco_port, args.reco_workers)
        try:
            stubs = [pb_grpc.RecommendationServiceStub(channel) for channel in channels]
            for person in people:  # warm: every user's history read once by every worker
                request = request_for(person, rng)
                replies = await asyncio.gather(*(stub.Recommend(request) for stub in stubs))
            assert {r.lists[0].model_version for r in replies} == {version}, replies[0].lists[0].model_version
            requests = [request_for(people[rng.randrange(len(people))], rng) for _ in range(5000)]

            async def send(n: int) -> None:
                await stubs[n % len(stubs)].Recommend(requests[n % len(requests)], timeout=5)

            print(f"gRPC: {args.rate}/s for {args.duration} s ...", flush=True)
            cpu = CpuUse({"reco": process_tree(processes[0].pid), "bench": [os.getpid()]})
            latencies, errors, dropped = await open_loop(send, args.rate, args.duration, args.max_in_flight)
            used = cpu.line(len(latencies) + errors)
            results.append(summary("gRPC Recommend", latencies, errors, dropped, args.duration, used))
        finally:
            await asyncio.gather(*(channel.close() for channel in channels))
        if with_gateway:
            groups = {
                "reco": process_tree(processes[0].pid),
                "gateway": process_tree(processes[1].pid),
                "bench": [os.getpid()],
            }
            results.append(await gateway_run(args, people, rng, gateway_port, groups))
        results.append(onnx_timing(artifact))
    finally:
        await stop_and_drop(processes, admin_url, url)
        shutil.rmtree(data_dir, ignore_errors=True)
    print_report("bench.reco", dataset, results)


async def gateway_run(
    args: argparse.Namespace, people, rng: random.Random, port: int, groups: dict[str, list[int]]
) -> str:
    import aiohttp

    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        deadline = time.monotonic() + 30
        while True:
            try:
                async with session.get(f"{base}/healthz") as reply:
                    if reply.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gateway did not start")
            await asyncio.sleep(0.2)
        urls = []
        for _ in range(5000):
            user, group, universes, characters = people[rng.randrange(len(people))]
            query = [("user_id", user), ("age_group", group), ("limit", "5")]
            query += [("selected_characters", c) for c in characters[: rng.randint(0, 2)]]
            urls.append((f"{base}/api/recommendations/characters", query))

        async def send(n: int) -> None:
            url, query = urls[n % len(urls)]
            async with session.get(url, params=query) as reply:
                await reply.read()
                if reply.status != 200:
                    raise RuntimeError(reply.status)

        for n in range(200):  # warm the gateway's channel and routes
            await send(n)
        print(f"gateway: {args.rate}/s for {args.gateway_duration} s ...", flush=True)
        cpu = CpuUse(groups)
        latencies, errors, dropped = await open_loop(
            send, args.rate, args.gateway_duration, args.max_in_flight
        )
        used = cpu.line(len(latencies) + errors)
    return summary(
        "gateway GET /api/recommendations/characters", latencies, errors, dropped, args.gateway_duration, used
    )


async def stop_and_drop(processes: list, admin_url: str, url: str) -> None:
    """Stop the bench's processes (SIGTERM, then SIGKILL after 15 s) and drop its database."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f'DROP DATABASE IF EXISTS "{urlsplit(url).path[1:]}" WITH (FORCE)')
    await conn.close()


def print_report(module: str, dataset: str, results: list[str]) -> None:
    """The run's date, machine, data set and command, then its figures."""
    print()
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {platform.node()}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")  # fmt: skip
    print(f"data set: {dataset}")
    print(f"command: python -m {module} {' '.join(sys.argv[1:])}".rstrip())
    for line in results:
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=500.0, help="calls per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of gRPC load")
    parser.add_argument("--gateway-duration", type=float, default=60.0, help="seconds of gateway load")
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-in-flight", type=int, default=256)
    parser.add_argument("--reco-port", type=int, default=50152)
    parser.add_argument("--gateway-port", type=int, default=8180)
    parser.add_argument("--no-gateway", action="store_true")
    parser.add_argument(
        "--reco-workers", type=int, default=1, help="SV_RECO_WORKERS: engine processes sharing the port"
    )
    parser.add_argument("--gateway-workers", type=int, default=1, help="SV_GATEWAY_WORKERS (0: one per core)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
