"""Soak: a fixed load for a bounded time, recording memory and latency over time.

    python -m bench.soak [--minutes 10] [--rate 40] [--out bench/results/soak.json]

Starts the three services (one process, as the laptop profile runs them) and the
gateway as subprocesses against a fresh database on SV_DATABASE_URL (or the
embedded PostgreSQL), then sends `rate` HTTP requests per second through the gateway
(single events, batches of 20, an erasure now and then) for the given time. Every
10 s it records each process's RSS, the window's latency percentiles and the size of the
recommendation engine's in-process feature store (its gauges on the services' /metrics:
what SV_RECO_FEATURE_MEMORY_MB bounds, so growth up to the bound is told from a leak). At the end
it fits a line to each process's RSS over the second half (after warm-up) and
reports the slope in MiB per hour: flat memory means a slope near zero. Loopback
only; the run stops by itself. Not part of CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg

from common.database import database_url
from common.settings import REPO_ROOT, Settings

SAMPLE_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def slope_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB), in MiB per hour."""
    if len(points) < 2:
        return 0.0
    xs, ys = zip(*points, strict=True)
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 0.0 if var == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var * 3600


def event(user: int) -> dict:
    return {
        "event_id": f"soak-{uuid.uuid4().hex}",
        "user_id": f"soak-user-{user}",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "event_type": random.choice(["story_creation", "story_view", "app_open"]),
        "properties": {
            "story_id": f"story-{random.randint(1, 500)}",
            "device_type": "tablet",
            "platform": "ios",
        },
        "session_id": f"s-{user}",
    }


async def create_database(admin_url: str) -> str:
    name = f"sv_soak_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}")), name


async def feature_store(session: aiohttp.ClientSession, metrics_url: str) -> dict[str, float]:
    """The engine's feature-store gauges from the services' Prometheus endpoint."""
    try:
        async with session.get(metrics_url) as resp:
            text = await resp.text()
    except aiohttp.ClientError:
        return {}
    found = {}
    for line in text.splitlines():
        for name, key, scale in (
            ("storyverse_reco_features_bytes", "features_mib", 2**20),
            ("storyverse_reco_features_entries", "entries", 1),
        ):
            if line.startswith(name) and not line.startswith(name + "_"):
                found[key] = round(float(line.rsplit(" ", 1)[1]) / scale, 2)
    return found


async def drive(
    base: str, rate: float, seconds: float, samples: list, pids: dict[str, int], metrics_url: str
) -> None:
    latencies: list[float] = []
    errors = 0
    started = time.monotonic()
    next_sample = started + SAMPLE_SECONDS
    interval = 1.0 / rate

    async def one(session: aiohttp.ClientSession, n: int) -> None:
        nonlocal errors
        user = random.randint(1, 2000)
        t0 = time.perf_counter()
        if n % 200 == 199:
            request = session.delete(f"{base}/api/admin/users/soak-user-{user}")
        elif n % 4 == 0:
            request = session.post(
                f"{base}/api/analytics/events:batch", json={"events": [event(user) for _ in range(20)]}
            )
        else:
            request = session.post(f"{base}/api/analytics/events", json=event(user))
        try:
            async with request as resp:
                await resp.read()
                if resp.status >= 500:
                    errors += 1
        except aiohttp.ClientError:
            errors += 1
        latencies.append(time.perf_counter() - t0)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        tasks: set[asyncio.Task] = set()
        n = 0
        while (now := time.monotonic()) - started < seconds:
            task = asyncio.create_task(one(session, n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
            if now >= next_sample:
                window = sorted(latencies) or [0.0]
                samples.append(
                    {
                        "t": round(now - started, 1),
                        "requests": len(latencies),
                        "errors": errors,
                        "p50_ms": round(window[len(window) // 2] * 1000, 2),
                        "p99_ms": round(window[min(len(window) - 1, int(len(window) * 0.99))] * 1000, 2),
                        "rss_mib": {name: round(rss_mib(pid), 1) for name, pid in pids.items()},
                        "feature_store": await feature_store(session, metrics_url),
                    }
                )
                print(json.dumps(samples[-1]), flush=True)
                latencies.clear()
                errors = 0
                next_sample += SAMPLE_SECONDS
            await asyncio.sleep(max(0.0, started + n * interval - time.monotonic()))
        await asyncio.gather(*tasks, return_exceptions=True)


def wait_http(url: str, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200 and json.loads(resp.read()).get("ready"):
                    return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description="Soak test at a fixed load (loopback only).")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=40.0, help="HTTP requests per second")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results" / "soak.json")
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="services under bench/tracemalloc_probe.py (slower): growth by line in <out>.tracemalloc.jsonl",
    )
    args = parser.parse_args()

    admin_url = database_url(Settings.from_env())
    url, name = asyncio.run(create_database(admin_url))
    ports = {k: free_port() for k in ("analytics", "reco", "feedback", "gateway", "metrics")}
    env = {
        **os.environ,
        "SV_DATABASE_URL": url,
        "SV_LOG_LEVEL": "WARNING",
        **{f"SV_{k.upper()}_PORT": str(p) for k, p in ports.items()},  # SV_METRICS_PORT: the services'
        **{f"SV_{k.upper()}_TARGET": f"127.0.0.1:{ports[k]}" for k in ("analytics", "reco", "feedback")},
    }
    procs = {
        "services": subprocess.Popen(
            [sys.executable, "-m", "bench.tracemalloc_probe"]
            if args.tracemalloc
            else [sys.executable, "-m", "system.services"],
            cwd=REPO_ROOT,
            env={**env, "SV_SOAK_TRACEMALLOC_OUT": str(args.out.with_suffix(".tracemalloc.jsonl"))},
        ),
        "gateway": subprocess.Popen([sys.executable, "-m", "gateway"], cwd=REPO_ROOT, env=env),
    }
    samples: list[dict] = []
    try:
        base = f"http://127.0.0.1:{ports['gateway']}"
        wait_http(f"{base}/readyz")
        pids = {name: p.pid for name, p in procs.items()}
        metrics_url = f"http://127.0.0.1:{ports['metrics']}/metrics"
        asyncio.run(drive(base, args.rate, args.minutes * 60, samples, pids, metrics_url))
    finally:
        for p in procs.values():
            p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
    parts = {
        "whole": samples,
        "second_half": samples[len(samples) // 2 :],
        "last_third": samples[len(samples) * 2 // 3 :],
    }
    store = [s["feature_store"].get("features_mib") for s in samples if s["feature_store"]]
    summary = {
        "minutes": args.minutes,
        "rate_per_second": args.rate,
        "feature_memory_mb_setting": os.environ.get("SV_RECO_FEATURE_MEMORY_MB", "default"),
        "requests": sum(s["requests"] for s in samples),
        "errors_5xx": sum(s["errors"] for s in samples),
        "p50_ms_median": statistics.median(s["p50_ms"] for s in samples) if samples else None,
        "p99_ms_max": max((s["p99_ms"] for s in samples), default=None),
        "rss_start_mib": samples[0]["rss_mib"] if samples else {},
        "rss_end_mib": samples[-1]["rss_mib"] if samples else {},
        "rss_max_mib": {proc: max((s["rss_mib"][proc] for s in samples), default=None) for proc in procs},
        "rss_slope_mib_per_hour": {
            part: {
                proc: round(slope_per_hour([(s["t"], s["rss_mib"][proc]) for s in points]), 2)
                for proc in procs
            }
            for part, points in parts.items()
        },
        "feature_store_mib_start_end_max": [store[0], store[-1], max(store)] if store else None,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "samples": samples}, indent=1))
    print(json.dumps(summary, indent=1))

    async def drop() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


if __name__ == "__main__":
    main()
