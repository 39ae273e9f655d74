"""Aggregation: the nightly rollup (idempotent, CLI), real-time minute buckets from the
bus, and the per-minute RPC statistics behind the performance report."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta

import grpc
import pytest
from google.protobuf import json_format
from storyverse.analytics.v1 import analytics_service_pb2 as pb

from analytics_svc.erasure import erasure_steps
from analytics_svc.queries import sequences
from analytics_svc.reports import creation_times, funnels, retention
from analytics_svc.requests import Filters, ReportParams, parse_step
from analytics_svc.rollups import rebuild as rollups
from common.settings import REPO_ROOT
from tests.analytics import reference as ref
from tests.analytics.builder import stream
from tests.analytics.conftest import record
from tests.conftest import service_env

ROLLUP_DAYS = (date(2023, 6, 5), date(2023, 6, 9))  # this module owns June to December 2023
TABLES = {
    "daily_user_activity": "day, user_id, age_group, platform, device_type",
    "daily_event_counts": "day, event_type, age_group, platform, device_type",
    "daily_content": "day, kind, key, age_group, platform, device_type",
    "daily_creation_times": "day, age_group, platform, device_type",
    "daily_creation_histograms": "day, age_group, platform, device_type",
    "user_day_sequences": "day, user_id",
}


async def snapshot(pool, first: date, last: date) -> dict[str, list]:
    found = {}
    for table, key in TABLES.items():
        rows = await pool.fetch(
            f"SELECT * FROM {table} WHERE day BETWEEN $1 AND $2 ORDER BY {key}", first, last
        )
        found[table] = [tuple(r.values()) for r in rows]
    found["rollup_days"] = [
        tuple(r.values())
        for r in await pool.fetch(
            "SELECT day, events FROM rollup_days WHERE day BETWEEN $1 AND $2 ORDER BY day", first, last
        )
    ]
    return found


async def test_rollup_twice_gives_the_same_rows_and_counts_every_event(analytics, stub, bus):
    first, last = ROLLUP_DAYS
    events = stream(seed=5, first_day=first, days=(last - first).days + 1, users=15)
    await record(stub, bus, analytics, events)
    pool = analytics.pool
    await rollups.run(pool, first, last)
    once = await snapshot(pool, first, last)
    await rollups.run(pool, first, last)
    assert await snapshot(pool, first, last) == once
    assert sum(n for _, n in once["rollup_days"]) == len(events)
    assert sum(r[-1] for r in once["daily_event_counts"]) == len(events)
    per_user_day = {(e.ts.date(), e.user_id) for e in events}
    assert {(r[0], r[1]) for r in once["daily_user_activity"]} == per_user_day
    # A late event for a rolled-up day is picked up by re-running that day.
    late = stream(seed=6, first_day=first, days=1, users=1, per_user=3)
    await record(stub, bus, analytics, late)
    await rollups.run(pool, first, first)
    again = await snapshot(pool, first, last)
    assert sum(n for _, n in again["rollup_days"]) == len(events) + len(late)
    # ... by the per-user rollups too: sequences hold every event, activity every user-day.
    assert sum(r[2] for r in again["user_day_sequences"]) == len(events) + len(late)
    everything = events + late
    assert await activity_days(pool, {e.user_id for e in everything}) == {
        (e.user_id, e.ts.date()) for e in everything
    }
    # Erasure removes the user's rows from every per-user rollup.
    gone = events[0].user_id
    deleted = {step.name: await step.run(gone) for step in erasure_steps(pool)}
    assert deleted["user_day_sequences"] > 0 and deleted["user_activity"] == 1
    for table in ("user_day_sequences", "user_activity", "daily_user_activity", "user_first_events"):
        assert await pool.fetchval(f"SELECT count(*) FROM {table} WHERE user_id = $1", gone) == 0
    # Re-rolling a day the user was active on does not bring anything back.
    await rollups.run(pool, first, last)
    assert await pool.fetchval("SELECT count(*) FROM user_activity WHERE user_id = $1", gone) == 0


async def activity_days(pool, users: set[str]) -> set[tuple[str, date]]:
    rows = await pool.fetch(
        "SELECT user_id, days FROM user_activity WHERE user_id = ANY($1::text[])", list(users)
    )
    found = set()
    for r in rows:
        for i in range(0, len(r["days"]), 4):
            found.add(
                (r["user_id"], date(1970, 1, 1) + timedelta(days=int.from_bytes(r["days"][i : i + 4], "big")))
            )
    return found


def test_rollup_cli_prints_progress_and_is_repeatable(analytics, settings):
    env = service_env(settings)
    command = [
        sys.executable,
        "-m",
        "analytics_svc.rollups.nightly",
        "--from",
        "2023-06-12",
        "--to",
        "2023-06-13",
    ]
    for _ in range(2):
        done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "[1/2] 2023-06-12" in done.stdout and "[2/2] 2023-06-13" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "analytics_svc.rollups.nightly", "--from", "2023-06-13", "--to", "2023-06-12"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "--from must not be after --to" in bad.stderr


async def test_realtime_figures_count_just_recorded_events(analytics, stub, bus):
    from datetime import UTC, datetime

    before = await stub.GetDashboard(pb.GetDashboardRequest(realtime_minutes=5))
    now = datetime.now(UTC)
    events = stream(seed=9, first_day=now.date(), days=1, users=4, per_user=6)
    for e in events:  # happened just now, recorded now
        e.ts = now - timedelta(seconds=30)
    await record(stub, bus, analytics, events)
    after = await stub.GetDashboard(pb.GetDashboardRequest(realtime_minutes=5))
    assert after.realtime.window_minutes == 5
    assert len(after.realtime.events_per_minute.points) == 5
    # Other tests may record in the same minutes: at least ours, exactly ours more.
    assert after.realtime.events - before.realtime.events >= len(events)
    assert after.realtime.active_users >= len({e.user_id for e in events})
    assert sum(p.value for p in after.realtime.events_per_minute.points) == after.realtime.events
    assert after.ingestion.events_per_second >= len(events) / 300
    assert after.ingestion.processing_lag_p99_seconds >= after.ingestion.processing_lag_p50_seconds >= 0


async def test_performance_report_counts_calls_errors_and_latency(analytics, stub):
    stats = analytics.component.rpc_stats
    await stats.flush()
    method = "/storyverse.analytics.v1.AnalyticsService/GetReport"
    today = date.today().isoformat()

    async def current() -> dict:
        await stats.flush()
        reply = await stub.GetReport(pb.GetReportRequest(report_type="performance", start_date=today))
        found = next(t for t in reply.tables if t.name == "rpc")
        rows = [dict(zip(found.columns, json_format.MessageToDict(r), strict=True)) for r in found.rows]
        return next((r for r in rows if r["method"] == method), {"calls": 0, "errors": 0})

    start = await current()  # this call itself is counted only after it answered
    for _ in range(3):
        with pytest.raises(grpc.aio.AioRpcError):
            await stub.GetReport(pb.GetReportRequest(report_type="experiment", experiment_key="x"))
    for _ in range(4):
        await stub.GetReport(
            pb.GetReportRequest(report_type="story_creation", start_date="2023-06-20", end_date="2023-06-20")
        )
    end = await current()
    assert end["calls"] - start["calls"] == 3 + 4 + 1  # + the first `current()` call
    assert end["errors"] - start["errors"] == 3
    assert 0 < end["p50_ms"] <= end["p95_ms"] <= end["p99_ms"]
    assert end["error_rate"] == pytest.approx(end["errors"] / end["calls"])


def test_latency_histogram_percentiles():
    from analytics_svc.reports.performance import BOUNDS, bucket_of, percentile

    histogram = [0] * (len(BOUNDS) + 1)
    for seconds in [0.001] * 90 + [0.1] * 10:
        histogram[bucket_of(seconds)] += 1
    assert 0.001 <= percentile(histogram, 0.5) < 0.001 * 1.5
    assert 0.1 <= percentile(histogram, 0.95) < 0.1 * 1.5
    assert percentile([0] * len(histogram), 0.5) == 0.0


@pytest.mark.parametrize("filters", [{}, {"platform": "ios"}, {"age_group": "6-8", "device_type": "phone"}])
async def test_dashboard_active_users_precomputed_and_stale_fallback(analytics, stub, bus, filters):
    # Own days (August to November 2023), rolled up with the whole 30-day window before them.
    offset = len(filters)
    first = [date(2023, 8, 1), date(2023, 9, 15), date(2023, 11, 1)][offset]
    last = first + timedelta(days=4)
    events = stream(seed=20 + offset, first_day=first, days=5, users=20)
    await record(stub, bus, analytics, events)
    await rollups.run(analytics.pool, last - timedelta(days=29), last)
    request = pb.GetDashboardRequest(start_date=str(first), end_date=str(last), **filters)

    async def check(evs) -> None:
        reply = await stub.GetDashboard(request)
        want = ref.active_users(evs, first, last, filters)
        got = reply.active_users
        assert (got.dau, got.wau, got.mau) == (want["dau"], want["wau"], want["mau"])
        assert [p.value for p in got.daily.points] == want["daily"]
        assert reply.source == "rollups"

    precomputed = await analytics.pool.fetchrow(
        "SELECT dau, wau, mau FROM daily_active_counts WHERE day = $1 AND age_group = '*' "
        "AND platform = '*' AND device_type = '*'",
        last,
    )
    everyone = ref.active_users(events, first, last, {})
    assert tuple(precomputed) == (everyone["dau"], everyone["wau"], everyone["mau"])
    await check(events)
    # A late event re-rolled for the first day makes `last`'s precomputed WAU/MAU stale:
    # the dashboard must notice and count from the daily activity instead.
    late = stream(seed=40 + offset, first_day=first, days=1, users=3, per_user=3)
    await record(stub, bus, analytics, late)
    await rollups.run(analytics.pool, first, first)
    await check(events + late)


async def test_days_rolled_up_before_the_per_user_rollups_are_read_raw(analytics, stub, bus):
    """A deployment upgraded to migration 0007: older days were rolled up without
    sequences, histograms or activity (rollup_days.version 1). Funnels, retention and the
    creation-time distribution must still equal the reference over those days."""
    first, days = date(2023, 7, 3), 14  # a Monday; this module owns June to December 2023
    last = first + timedelta(days=days - 1)
    events = stream(seed=8, first_day=first, days=days, users=12)
    await record(stub, bus, analytics, events)
    pool = analytics.pool
    await rollups.run(pool, first, last)
    old = [first + timedelta(days=i) for i in range(7)]
    users = list({e.user_id for e in events})
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("UPDATE rollup_days SET version = 1 WHERE day = ANY($1::date[])", old)
        await conn.execute("UPDATE daily_user_activity SET type_mask = NULL WHERE day = ANY($1::date[])", old)
        for table in ("user_day_sequences", "daily_creation_histograms"):
            await conn.execute(f"DELETE FROM {table} WHERE day = ANY($1::date[])", old)
        # Activity rows as the rollups since the upgrade left them: only for the users
        # active since, built from daily_user_activity (old days without type masks).
        await conn.execute("DELETE FROM user_activity WHERE user_id = ANY($1::text[])", users)
        since = list({e.user_id for e in events if e.ts.date() > old[-1]})
        await conn.execute(sequences.ACTIVITY, since)

    for unit, start_event, return_event in (("day", "", ""), ("week", "", ""), ("day", "", "story_view")):
        params = ReportParams(
            report_type="retention",
            start=first,
            end=last,
            granularity=unit,
            periods=6,
            start_event=start_event,
            return_event=return_event,
        )
        got, _ = await retention.compute(pool, params)
        want = ref.retention(events, first, last, unit, 6, start_event, return_event)
        assert {c: (v["size"], v["in"], v["or_later"]) for (_, c), v in got.items()} == want

    for order in ("ordered", "strict"):
        steps = tuple(parse_step(s) for s in ("session_start", "story_started", "story_creation"))
        params = ReportParams(report_type="funnel", start=first, end=last, steps=steps, funnel_order=order)
        got, source = await funnels.compute_seconds(pool, params, 7200)
        want = ref.funnel(events, list(steps), order, 7200, first, last, {}, "")
        assert source == "rollups+raw"
        assert {g["group"]: [(u, _r(p), _r(f)) for u, p, f in g["steps"]] for g in got} == {
            k: [(u, _r(p), _r(f)) for u, p, f in v] for k, v in want.items()
        }

    dist = await creation_times.compute(pool, first, last, Filters())
    times = [
        e.creation_time for e in events if e.event_type == "story_creation" and e.creation_time is not None
    ]
    assert dist.count == len(times)
    if times:
        assert dist.median == pytest.approx(ref.percentile_cont(times, 0.5))
        assert dist.p90 == pytest.approx(ref.percentile_cont(times, 0.9))
        assert dist.mean == pytest.approx(sum(times) / len(times))


def _r(value):
    return None if value is None else round(float(value), 6)
