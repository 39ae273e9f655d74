"""Benchmark of the analytics reports on 10 million events.

    python -m bench.analytics load      # (re)create sv_bench_analytics, COPY 10M events
    python -m bench.analytics rollup    # nightly rollup over every day of the data set
    python -m bench.analytics measure   # dashboard, 3-step funnel, 8-week retention over gRPC
    python -m bench.analytics check     # the rollup paths give the raw-SQL paths' figures
    python -m bench.analytics all
    python -m bench.analytics compare --events N --repeats R [--only clickhouse]  # PostgreSQL vs ClickHouse

SV_BENCH_ADMIN_URL (default postgresql://postgres@127.0.0.1:5432/postgres) names the
server; the database sv_bench_analytics is created there. Figures go to stdout as
Markdown, ready for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from analytics_svc.ingestion.prepare import COLUMNS
from analytics_svc.schema import MIGRATIONS
from bench.generate import events
from bench.measure import run
from common.migrations import apply_migrations

ADMIN_URL = os.environ.get("SV_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = "sv_bench_analytics"
TOTAL_EVENTS = int(os.environ.get("SV_BENCH_EVENTS", 10_000_000))
FIRST_DAY = date(2025, 1, 1)
DAYS = 90
CHUNK = 50_000
# About 93 events per user: enough users for TOTAL_EVENTS (the stream stops there).
USERS = int(os.environ.get("SV_BENCH_USERS", 110_000))


def bench_url() -> str:
    return urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{DB_NAME}"))


async def load() -> None:
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    await admin.close()
    pool = await asyncpg.create_pool(bench_url(), min_size=1, max_size=2)
    await apply_migrations(pool, "analytics", MIGRATIONS)
    started = time.perf_counter()
    loaded = 0
    chunk: list[tuple] = []
    async with pool.acquire() as conn:
        for row in events(USERS, FIRST_DAY, DAYS):
            chunk.append(row)
            if len(chunk) == CHUNK or loaded + len(chunk) == TOTAL_EVENTS:
                await conn.copy_records_to_table("events", records=chunk, columns=[*COLUMNS, "stored_at"])
                loaded += len(chunk)
                chunk = []
                rate = loaded / (time.perf_counter() - started)
                print(f"loaded {loaded:,} events ({rate:,.0f}/s)", flush=True)
                if loaded >= TOTAL_EVENTS:
                    break
        if chunk:
            await conn.copy_records_to_table("events", records=chunk, columns=[*COLUMNS, "stored_at"])
            loaded += len(chunk)
        await conn.execute("VACUUM ANALYZE events")
    print(f"load done: {loaded:,} events in {time.perf_counter() - started:.0f} s", flush=True)
    await pool.close()


def rollup() -> float:
    last = FIRST_DAY + timedelta(days=DAYS - 1)
    started = time.perf_counter()
    env = {**os.environ, "SV_DATABASE_URL": bench_url()}
    cmd = [sys.executable, "-m", "analytics_svc.rollups.nightly", "--from", str(FIRST_DAY), "--to", str(last)]
    subprocess.run(cmd, env=env, check=True)
    seconds = time.perf_counter() - started
    print(f"rollup of {DAYS} days: {seconds:.0f} s", flush=True)
    return seconds


async def measure(repeats: int = 30) -> None:
    # The stream stops at TOTAL_EVENTS, possibly before the last planned day: measure up
    # to the last complete day.
    conn = await asyncpg.connect(bench_url())
    last = await conn.fetchval("SELECT max(day) - 1 FROM rollup_days WHERE events > 0")
    await conn.close()
    print(f"measuring with the last full day {last}", flush=True)
    await run(bench_url(), last, repeats)


async def check() -> None:
    """Funnels (both orders, with a breakdown) and retention (any / specific return) on the
    loaded data: the per-user rollup paths must equal the SQL over raw events."""
    from analytics_svc.reports import funnels, retention
    from analytics_svc.requests import ReportParams, parse_step

    pool = await asyncpg.create_pool(bench_url(), min_size=1, max_size=2)
    last = await pool.fetchval("SELECT max(day) - 1 FROM rollup_days WHERE events > 0")
    month = last - timedelta(days=29)
    weeks_first = last - timedelta(days=last.weekday()) - timedelta(weeks=11)
    failures = 0
    for order, steps in (
        ("ordered", ["session_start", "story_started", "story_creation"]),
        ("strict", ["story_started", "story_creation", "story_view"]),
    ):
        params = ReportParams(
            report_type="funnel",
            start=month,
            end=last,
            steps=tuple(parse_step(s) for s in steps),
            funnel_order=order,
            breakdown="platform",
        )
        t0 = time.perf_counter()
        fast, _ = await funnels.compute(pool, params)
        t1 = time.perf_counter()
        slow, _ = await funnels.compute_seconds(pool, params, 24 * 3600, sequences_allowed=False)
        t2 = time.perf_counter()
        same = _rounded(fast) == _rounded(slow)
        failures += not same
        print(f"funnel {order}: {'same' if same else 'DIFFERENT'} ({t1 - t0:.2f} s vs SQL {t2 - t1:.2f} s)")
    for return_event in ("", "story_creation"):
        params = ReportParams(
            report_type="retention",
            start=weeks_first,
            end=weeks_first + timedelta(weeks=8) - timedelta(days=1),
            granularity="week",
            periods=8,
            return_event=return_event,
        )
        t0 = time.perf_counter()
        fast, _ = await retention.compute(pool, params)
        t1 = time.perf_counter()
        slow, _ = await retention.compute(pool, params, activity_allowed=False)
        t2 = time.perf_counter()
        same = fast == slow
        failures += not same
        name = return_event or "any"
        print(
            f"retention ({name}): {'same' if same else 'DIFFERENT'} ({t1 - t0:.2f} s vs SQL {t2 - t1:.2f} s)"
        )
    await pool.close()
    if failures:
        raise SystemExit(f"{failures} check(s) failed")


def _rounded(groups: list[dict]) -> list:
    r = lambda v: None if v is None else round(float(v), 6)  # noqa: E731
    return [(g["group"], [(u, r(p), r(f)) for u, p, f in g["steps"]]) for g in groups]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("step", choices=["load", "rollup", "measure", "check", "all", "compare"])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--events", type=int, default=2_000_000, help="compare: events generated")
    parser.add_argument(
        "--only",
        choices=["postgres", "clickhouse"],
        default="",
        help="compare: one backend (answers_equal null)",
    )
    args = parser.parse_args()
    if args.step == "compare":
        from bench.analytics_compare import main as compare

        compare(args.events, args.repeats, args.only)
        return
    if args.step in ("load", "all"):
        asyncio.run(load())
    if args.step in ("rollup", "all"):
        rollup()
    if args.step in ("measure", "all"):
        asyncio.run(measure(args.repeats))
    if args.step == "check":
        asyncio.run(check())


if __name__ == "__main__":
    main()
