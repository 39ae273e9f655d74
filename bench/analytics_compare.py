"""PostgreSQL against ClickHouse on the same generated events, through the service over gRPC.

    PYTHONPATH=.:gen python -m bench.analytics compare --events 2000000 --repeats 10

Generates N events (bench/generate.py, seed 7, ~93 events per user over 90 days), loads
them into a fresh PostgreSQL database (COPY, then the nightly rollup over every day: the
service's fast paths read the rollups) and into the embedded ClickHouse engine (chDB, in
SV_BENCH_CLICKHOUSE_DIR, default /tmp/sv_bench_clickhouse), then runs the analytics
service on each store in turn and times over gRPC: the dashboard (30 days), the 3-step
ordered funnel (30 days, 24 h window) and 8 weekly cohorts x 8 weeks of retention. The
answers of both must agree (tables of the reports, every event figure of the dashboard).

The last line is one JSON object: {"events": N, "postgres": {"funnel_ms", "retention_ms",
"dashboard_ms" (p50s), "load_s", "bytes"}, "clickhouse": {same}, "answers_equal": bool}.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import grpc
from storyverse.analytics.v1 import analytics_service_pb2 as pb
from storyverse.analytics.v1 import analytics_service_pb2_grpc as pb_grpc

from analytics_svc.eventstore.clickhouse import ClickHouseEventStore
from analytics_svc.ingestion.prepare import COLUMNS
from analytics_svc.schema import MIGRATIONS
from analytics_svc.service import SPEC
from bench.generate import events
from common.bus.inprocess import InProcessBus
from common.grpc_server import start
from common.migrations import apply_migrations
from common.settings import Settings

DB_NAME = "sv_bench_compare"
FIRST_DAY = date(2025, 1, 1)
DAYS = 90
CHUNK = 100_000
EVENTS_PER_USER = 93
# The tables holding events and what is derived from them (rollups), as the service keeps them.
PG_TABLES = """
SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r'
  AND c.relname NOT IN ('schema_migrations', 'failed_events', 'bench_meta')
"""


def _url(admin_url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))


def _rows(total: int):
    """The first `total` rows of the stream (it may end before: ~93 events per user)."""
    for n, row in enumerate(events(max(1, total // EVENTS_PER_USER), FIRST_DAY, DAYS), start=1):
        yield row
        if n >= total:
            return


async def load_postgres(admin_url: str, total: int) -> tuple[str, float, int]:
    url = _url(admin_url, DB_NAME)
    if os.environ.get("SV_BENCH_REUSE"):  # the database of an earlier run with the same N
        try:
            conn = await asyncpg.connect(url)
            row = await conn.fetchrow("SELECT events, load_s FROM bench_meta")
            size = int(await conn.fetchval(PG_TABLES))
            await conn.close()
            if row["events"] == total:
                print(f"postgres: reusing {DB_NAME} (loaded in {row['load_s']:.0f} s)", flush=True)
                return url, row["load_s"], size
        except (OSError, asyncpg.PostgresError):
            pass
    await empty_postgres(admin_url)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    started = time.perf_counter()
    chunk: list[tuple] = []
    async with pool.acquire() as conn:
        for row in _rows(total):
            chunk.append(row)
            if len(chunk) == CHUNK:
                await conn.copy_records_to_table("events", records=chunk, columns=[*COLUMNS, "stored_at"])
                chunk = []
        if chunk:
            await conn.copy_records_to_table("events", records=chunk, columns=[*COLUMNS, "stored_at"])
        await conn.execute("VACUUM ANALYZE events")
        last = await conn.fetchval("SELECT (max(ts) AT TIME ZONE 'UTC')::date FROM events")
    await pool.close()
    env = {**os.environ, "SV_DATABASE_URL": url, "SV_LOG_LEVEL": "WARNING"}
    cmd = [sys.executable, "-m", "analytics_svc.rollups.nightly", "--from", str(FIRST_DAY), "--to", str(last)]
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    await pool.execute("VACUUM ANALYZE")  # the rollups settled too: no autovacuum while measuring
    size = int(await pool.fetchval(PG_TABLES))
    await pool.execute(
        "CREATE TABLE bench_meta AS SELECT $1::bigint AS events, $2::float8 AS load_s", total, seconds
    )
    await pool.close()
    print(
        f"postgres: {total:,} events loaded and rolled up in {seconds:.0f} s, {size / 1e6:.0f} MB", flush=True
    )
    return url, seconds, int(size)


async def load_clickhouse(path: Path, total: int) -> tuple[float, int, int]:
    meta = path.parent / "bench_meta.json"  # beside the engine's directory
    if os.environ.get("SV_BENCH_REUSE") and meta.exists():  # the store of an earlier run with the same N
        loaded = json.loads(meta.read_text())
        if loaded["events"] == total:
            store = await ClickHouseEventStore.open(path=path)
            size, count = await store.bytes_on_disk(), await store.count()
            await store.close()
            print(f"clickhouse: reusing {path} (loaded in {loaded['load_s']:.0f} s)", flush=True)
            return loaded["load_s"], size, count
    shutil.rmtree(path, ignore_errors=True)
    meta.unlink(missing_ok=True)
    store = await ClickHouseEventStore.open(path=path)
    started = time.perf_counter()
    chunk: list[tuple] = []
    for row in _rows(total):
        chunk.append(row)
        if len(chunk) == CHUNK:
            await store.load(chunk, [*COLUMNS, "stored_at"])
            chunk = []
    if chunk:
        await store.load(chunk, [*COLUMNS, "stored_at"])
    await store.optimize()  # parts merged, as a day of background merges leaves them
    seconds = time.perf_counter() - started
    size = await store.bytes_on_disk()
    count = await store.count()
    await store.close()
    print(f"clickhouse: {count:,} events loaded in {seconds:.1f} s, {size / 1e6:.1f} MB", flush=True)
    meta.write_text(json.dumps({"events": total, "load_s": seconds}))
    return seconds, size, count


def _requests(last_day: date) -> dict[str, tuple[str, object]]:
    month = (last_day - timedelta(days=29), last_day)
    weeks_first = last_day - timedelta(days=last_day.weekday()) - timedelta(weeks=11)
    return {
        "dashboard": (
            "GetDashboard",
            pb.GetDashboardRequest(start_date=str(month[0]), end_date=str(month[1])),
        ),
        "funnel": (
            "GetReport",
            pb.GetReportRequest(
                report_type="funnel",
                start_date=str(month[0]),
                end_date=str(month[1]),
                steps=["session_start", "story_started", "story_creation"],
                conversion_window_hours=24,
            ),
        ),
        "retention": (
            "GetReport",
            pb.GetReportRequest(
                report_type="retention",
                granularity="week",
                periods=8,
                start_date=str(weeks_first),
                end_date=str(weeks_first + timedelta(weeks=8) - timedelta(days=1)),
            ),
        ),
    }


def _answer(name: str, reply) -> object:
    """What must agree: report tables; the dashboard's event figures (not its live parts)."""
    if name == "dashboard":
        reply.ClearField("source")
        reply.ClearField("ingestion")
        reply.ClearField("realtime")
        reply.ClearField("generated_at")
        return str(reply)
    return [(t.name, list(t.columns), [list(r.values) for r in t.rows]) for t in reply.tables]


async def measure(settings: Settings, last_day: date, repeats: int) -> tuple[dict, dict]:
    bus = InProcessBus()
    service = await start(SPEC, settings, 0, bus)
    await bus.start()
    times: dict[str, float] = {}
    answers: dict[str, object] = {}
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = pb_grpc.AnalyticsServiceStub(channel)
            for name, (method, request) in _requests(last_day).items():
                call = getattr(stub, method)
                for _ in range(2):  # warm-up: connections, plans, caches
                    reply = await call(request)
                answers[name] = _answer(name, reply)
                seconds = []
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    await call(request)
                    seconds.append(time.perf_counter() - t0)
                times[name] = statistics.median(seconds) * 1000
                p95 = statistics.quantiles(seconds, n=20, method="inclusive")[-1] * 1000
                load = os.getloadavg()[0]
                print(
                    f"{settings.analytics_store} {name}: p50 {times[name]:.0f} ms, p95 {p95:.0f} ms"
                    f" (load {load:.2f})",
                    flush=True,
                )
    finally:
        await service.stop(grace=1)
        await bus.aclose()
    return times, answers


async def empty_postgres(admin_url: str) -> str:
    """A fresh database with the service's tables, no events yet."""
    url = _url(admin_url, DB_NAME)
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    await admin.close()
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    await apply_migrations(pool, "analytics", MIGRATIONS)
    await pool.close()
    return url


async def last_clickhouse_day(path: Path) -> date:
    store = await ClickHouseEventStore.open(path=path)
    rows = await store.fetch(f"SELECT toDate(max(ts)) - 1 AS last FROM {store.table}")
    await store.close()
    return rows[0]["last"]


async def compare(total: int, repeats: int, only: str = "") -> dict:
    """Both backends, or `only` one of them ("postgres", "clickhouse": answers_equal is then
    null): a size where loading the other would take hours on this host."""
    admin_url = os.environ.get("SV_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    path = Path(os.environ.get("SV_BENCH_CLICKHOUSE_DIR", "/tmp/sv_bench_clickhouse"))
    with_pg, with_ch = only in ("", "postgres"), only in ("", "clickhouse")
    if with_pg:
        url, pg_load, pg_bytes = await load_postgres(admin_url, total)
        conn = await asyncpg.connect(url)
        last = await conn.fetchval("SELECT max(day) - 1 FROM rollup_days WHERE events > 0")
        count = await conn.fetchval("SELECT count(*) FROM events")
        await conn.close()
    else:
        url = await empty_postgres(admin_url)
    if with_ch:
        ch_load, ch_bytes, count = await load_clickhouse(path / "clickhouse", total)
        if not with_pg:
            last = await last_clickhouse_day(path / "clickhouse")
    print(f"measuring up to the last full day {last}", flush=True)
    base = Settings(database_url=url, log_level="WARNING", db_pool_max=10, storage_sample_seconds=0)
    pg_times, pg_answers = await measure(base, last, repeats) if with_pg else ({}, {})
    ch_settings = Settings(
        database_url=url,
        log_level="WARNING",
        db_pool_max=10,
        storage_sample_seconds=0,
        analytics_store="clickhouse",
        data_dir=path,
        clickhouse_database="storyverse",
    )
    ch_times, ch_answers = await measure(ch_settings, last, repeats) if with_ch else ({}, {})
    for name in pg_answers if with_ch else ():
        if pg_answers[name] != ch_answers[name]:
            for backend, answer in (("postgres", pg_answers), ("clickhouse", ch_answers)):
                Path(f"/tmp/sv_bench_{name}.{backend}.txt").write_text(str(answer[name]))
            print(f"DIFFERENT: {name} (both answers in /tmp/sv_bench_{name}.*.txt)", flush=True)

    def figures(times: dict, load_s: float, size: int) -> dict:
        return {
            "funnel_ms": round(times["funnel"], 1),
            "retention_ms": round(times["retention"], 1),
            "dashboard_ms": round(times["dashboard"], 1),
            "load_s": round(load_s, 1),
            "bytes": size,
        }

    return {
        "events": count,
        "postgres": figures(pg_times, pg_load, pg_bytes) if with_pg else None,
        "clickhouse": figures(ch_times, ch_load, ch_bytes) if with_ch else None,
        "answers_equal": pg_answers == ch_answers if with_pg and with_ch else None,
    }


def main(total: int, repeats: int, only: str = "") -> None:
    result = asyncio.run(compare(total, repeats, only))
    print(json.dumps(result), flush=True)
