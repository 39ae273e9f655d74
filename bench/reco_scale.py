"""Recommendation model at catalog scale: fit time, peak memory, model size, gRPC latency.

    SV_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
      python -m bench.reco_scale --items 100000 --users 1000000 --interactions 20000000

1. **fit** (a child process, so its peak memory is its own): generates the interactions
   (bench/reco_data.py: Zipf popularity, topics, log-normal activity), then runs what training
   runs after reading PostgreSQL: model_assembly.assemble with the tuned learner (tuning on a
   validation split within --budget s, the offline metrics, the final fit, sparse
   co-occurrence and attributes, the sparse W) and the archive (ONNX graph + W), timed;
   peak RSS of that process (the generated data included).
2. **serve**: a fresh database with the catalog (every item a story, ages 3-17), the archive
   in a folder artifact store (shared storage), registered and activated; `python -m reco_svc`
   starts and loads it; --children returning children (each seen once by every connection
   first, as bench.reco warms its users) ask for similar stories (a story drawn by popularity
   as the child's current story, an age group, limit 5) open-loop at --rate/s for --duration
   s, latency from each call's scheduled time (bench/reco.py's loop). --archive FILE serves
   an archive written by `--phase fit --out FILE` instead of fitting again.

Targets (issue 20): fit <= 10 min and <= 8 GB on 2 cores, p99 <= 10 ms at 500 requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import numpy as np
from storyverse.recommendation.v1 import recommendation_service_pb2 as pb
from storyverse.recommendation.v1 import recommendation_service_pb2_grpc as pb_grpc

from bench.reco import engine_channels, open_loop, start, summary
from bench.reco_data import as_matrix, generate
from common.artifacts import configured_store, put
from common.database import database_url
from common.migrations import apply_migrations
from common.settings import REPO_ROOT, Settings
from reco_svc import store
from reco_svc.age_rules import AGE_GROUPS
from reco_svc.catalog import CatalogEntry


def catalog(n_items: int) -> list[CatalogEntry]:
    return [
        CatalogEntry("story", f"s{i}", f"Story {i}", 3, 17, tags=(f"tag{i % 97}",)) for i in range(n_items)
    ]


def fit(args: argparse.Namespace) -> None:
    from reco_svc.model_assembly import assemble
    from reco_svc.offline.learned_parts import Learned

    started = time.perf_counter()
    users, items = generate(args.users, args.items, args.interactions, seed=args.seed)
    matrix = as_matrix(users, items, args.users, args.items)
    generated = time.perf_counter() - started
    popularity = np.asarray(matrix.sum(axis=0)).ravel()
    contexts = {
        f"pop:{g}": {int(j): float(popularity[j]) for j in np.argsort(-popularity)[:200]} for g in AGE_GROUPS
    }
    steps: list[str] = []
    clock = time.perf_counter()

    def step(message: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        steps.append(f"{message} ({now - clock:.1f} s)")
        clock = now

    fitting = time.perf_counter()
    artifact = assemble(
        catalog(args.items), matrix, contexts, args.version, Learned(budget_seconds=args.budget), step
    )
    assembled = time.perf_counter() - fitting
    archive = artifact.to_bytes()
    fit_seconds = time.perf_counter() - fitting
    Path(args.out).write_bytes(archive)
    np.save(popularity_file(args.out), popularity + 1e-9)  # serve draws stories by it without regenerating
    print(
        json.dumps(
            {
                "pairs": int(matrix.nnz),
                "generate_seconds": round(generated, 1),
                "fit_seconds": round(fit_seconds, 1),
                "assemble_seconds": round(assembled, 1),
                "archive_bytes": len(archive),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                "steps": steps,
                "tuning": artifact.tuning.get("reason"),
                "params": artifact.tuning.get("served_params"),
                "metrics": {k: v for k, v in artifact.metrics.items() if "ndcg" in k},
                "w_nnz": int(artifact.weights.nnz),
            }
        ),
        flush=True,
    )


async def serve(args: argparse.Namespace, archive: bytes, popularity: np.ndarray) -> list[str]:
    settings = Settings.from_env()
    admin_url = database_url(settings)
    name = f"sv_bench_reco_scale_{os.getpid()}"
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    data_dir = Path(tempfile.mkdtemp(prefix="bench-reco-scale-"))
    results = []
    pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
    try:
        await apply_migrations(pool, "analytics", REPO_ROOT / "analytics_svc" / "migrations")
        await apply_migrations(pool, "reco", REPO_ROOT / "reco_svc" / "migrations")
        await store.load_demo(pool, catalog(args.items))
        # A folder as the shared storage (an archive of this size is past what PostgreSQL
        # artifacts hold; a cluster uses S3).
        artifacts = f"file://{data_dir / 'artifacts'}"
        run_settings = Settings(database_url=url, data_dir=data_dir, artifact_store=artifacts)
        stored = await put(configured_store(run_settings, pool), f"reco/{args.version}.tar", archive)
        await store.register_version(
            pool, args.version, stored.location, {}, "scale bench", True, stored.sha256, stored.size
        )
        port = args.reco_port
        env = {
            **os.environ,
            "SV_DATABASE_URL": url,
            "SV_DATA_DIR": str(data_dir),
            "SV_ARTIFACT_STORE": artifacts,
            "SV_RECO_PORT": str(port),
            "SV_RECO_CATALOG": "none",
            "SV_LOG_LEVEL": "WARNING",
            "SV_RECO_WORKERS": str(args.reco_workers),
        }
        process = start("reco_svc", env, data_dir / "reco.log")
        try:
            from tests.conftest import wait_serving

            loading = time.perf_counter()
            await asyncio.to_thread(wait_serving, f"127.0.0.1:{port}", "", 300)
            rng = random.Random(args.seed)
            cumulative = np.cumsum(popularity) / popularity.sum()
            groups = list(AGE_GROUPS)

            def request(n: int) -> pb.RecommendRequest:
                story = int(np.searchsorted(cumulative, rng.random()))
                return pb.RecommendRequest(
                    user_id=f"child-{n % args.children}",
                    context=pb.RecommendationContext(
                        age_group=rng.choice(groups), current_story_id=f"s{story}", device_type="tablet"
                    ),
                    recommendation_types=["story"],
                    limit=5,
                )

            channels = engine_channels(port, args.reco_workers)
            try:
                stubs = [pb_grpc.RecommendationServiceStub(channel) for channel in channels]
                for stub in stubs:  # every worker serves the bootstrap model until it has the archive
                    while (await stub.Recommend(request(0), timeout=30)).lists[
                        0
                    ].model_version != args.version:
                        await asyncio.sleep(0.5)
                results.append(f"model loaded and serving after {time.perf_counter() - loading:.1f} s")
                requests = [request(n) for n in range(20000)]
                # Warm, as bench.reco does: every child's (empty) history read once by every worker.
                for r in requests[: args.children]:
                    await asyncio.gather(*(stub.Recommend(r, timeout=30) for stub in stubs))

                async def send(n: int) -> None:
                    await stubs[n % len(stubs)].Recommend(requests[n % len(requests)], timeout=5)

                latencies, errors, dropped = await open_loop(
                    send, args.rate, args.duration, args.max_in_flight
                )
                results.append(
                    summary("gRPC Recommend (similar stories)", latencies, errors, dropped, args.duration)
                )
            finally:
                await asyncio.gather(*(channel.close() for channel in channels))
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    finally:
        await pool.close()
        conn = await asyncpg.connect(admin_url)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
    return results


def popularity_file(archive: str) -> str:
    return f"{archive}.popularity.npy"


def main() -> None:
    parser = argparse.ArgumentParser(description="Recommendation model at catalog scale.")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=20_000_000)
    parser.add_argument("--budget", type=float, default=60.0, help="tuning seconds")
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--max-in-flight", type=int, default=256)
    parser.add_argument("--reco-port", type=int, default=50162)
    parser.add_argument(
        "--reco-workers", type=int, default=1, help="SV_RECO_WORKERS: engine processes sharing the port"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--children", type=int, default=2000, help="distinct users calling")
    parser.add_argument("--phase", choices=["all", "fit"], default="all")
    parser.add_argument("--out", default="")
    parser.add_argument(
        "--archive", default="", help="serve this archive (from --phase fit --out FILE) instead of fitting"
    )
    parser.add_argument("--version", default=f"vscale-{int(time.time())}")
    args = parser.parse_args()
    if args.phase == "fit":
        fit(args)
        return
    fitted = None
    if args.archive:
        out = Path(args.archive)
    else:
        out = Path(tempfile.mkdtemp(prefix="bench-reco-scale-")) / "model.tar"
        fitted = fit_in_child(args, out)
    popularity = np.load(popularity_file(str(out)))
    results = asyncio.run(serve(args, out.read_bytes(), popularity))
    print()
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(f"command: python -m bench.reco_scale {' '.join(sys.argv[1:])}".rstrip())
    if fitted is None:
        print(f"data set: {args.items} items, {args.users} users (bench/reco_data.py); archive {out}")
    else:
        print_fit(args, fitted)
    for line in results:
        print(line)


def fit_in_child(args: argparse.Namespace, out: Path) -> dict:
    """The fit phase in a process of its own (its peak memory is the fit's alone)."""
    command = [sys.executable, "-m", "bench.reco_scale", *sys.argv[1:], "--phase", "fit", "--out", str(out)]
    command += ["--version", args.version]
    print(f"fitting {args.items} items, {args.users} users, {args.interactions} interactions ...", flush=True)
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_fit(args: argparse.Namespace, fitted: dict) -> None:
    print(
        f"data set: {args.items} items, {args.users} users, {fitted['pairs']} distinct pairs "
        "(bench/reco_data.py)"
    )
    print(
        f"fit: {fitted['fit_seconds']} s (tuning, metrics, final fit, co-occurrence, attributes, W, "
        f"archive), peak RSS {fitted['peak_rss_mb']} MB (data generation included), model archive "
        f"{fitted['archive_bytes'] / 2**20:.1f} MiB, W {fitted['w_nnz']} non-zero"
    )
    print(f"tuning: {fitted['tuning']}")
    print(f"chosen: {json.dumps(fitted['params'])}; offline metrics: {json.dumps(fitted['metrics'])}")
    print("steps: " + "; ".join(fitted["steps"]))


if __name__ == "__main__":
    main()
