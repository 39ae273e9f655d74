"""The timed part of the benchmark: the real service on loopback, called over gRPC."""

from __future__ import annotations

import os
import statistics
import time
from datetime import date, timedelta

import grpc
from storyverse.analytics.v1 import analytics_service_pb2 as pb
from storyverse.analytics.v1 import analytics_service_pb2_grpc as pb_grpc

from analytics_svc.service import SPEC
from common.bus.inprocess import InProcessBus
from common.grpc_server import start
from common.settings import Settings


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(name: str, values: list[float]) -> str:
    return (
        f"| {name} | {len(values)} | {statistics.median(values) * 1000:.0f} | "
        f"{percentile(values, 0.95) * 1000:.0f} | {max(values) * 1000:.0f} |"
    )


async def timed(call, request, repeats: int) -> list[float]:
    for _ in range(2):  # warm-up: connections, plans, caches
        await call(request)
    seconds = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        await call(request)
        seconds.append(time.perf_counter() - t0)
    return seconds


async def run(url: str, last_day: date, repeats: int) -> None:
    bus = InProcessBus()
    settings = Settings(database_url=url, log_level="WARNING", db_pool_max=10)
    service = await start(SPEC, settings, 0, bus)
    await bus.start()
    month = (last_day - timedelta(days=29), last_day)
    weeks_first = last_day - timedelta(days=last_day.weekday()) - timedelta(weeks=11)
    requests = {
        "dashboard, 30 days": (
            "GetDashboard",
            pb.GetDashboardRequest(start_date=str(month[0]), end_date=str(month[1])),
        ),
        "dashboard, 30 days, platform=ios": (
            "GetDashboard",
            pb.GetDashboardRequest(start_date=str(month[0]), end_date=str(month[1]), platform="ios"),
        ),
        "funnel, 3 steps, 30 days (ordered)": (
            "GetReport",
            pb.GetReportRequest(
                report_type="funnel",
                start_date=str(month[0]),
                end_date=str(month[1]),
                steps=["session_start", "story_started", "story_creation"],
                conversion_window_hours=24,
            ),
        ),
        "funnel, 3 steps, 30 days (strict)": (
            "GetReport",
            pb.GetReportRequest(
                report_type="funnel",
                start_date=str(month[0]),
                end_date=str(month[1]),
                steps=["story_started", "story_creation", "story_view"],
                conversion_window_hours=24,
                funnel_order="strict",
            ),
        ),
        "retention, 8 weekly cohorts x 8 weeks": (
            "GetReport",
            pb.GetReportRequest(
                report_type="retention",
                granularity="week",
                periods=8,
                start_date=str(weeks_first),
                end_date=str(weeks_first + timedelta(weeks=8) - timedelta(days=1)),
            ),
        ),
        "retention, 8 weekly cohorts, return_event=story_creation": (
            "GetReport",
            pb.GetReportRequest(
                report_type="retention",
                granularity="week",
                periods=8,
                return_event="story_creation",
                start_date=str(weeks_first),
                end_date=str(weeks_first + timedelta(weeks=8) - timedelta(days=1)),
            ),
        ),
    }
    only = os.environ.get("SV_BENCH_ONLY")  # a substring of the call names, to re-measure some
    if only:
        requests = {k: v for k, v in requests.items() if only in k}
    lines = ["| call | n | p50 ms | p95 ms | max ms |", "|---|---|---|---|---|"]
    loads = [os.getloadavg()]
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = pb_grpc.AnalyticsServiceStub(channel)
            for name, (method, request) in requests.items():
                n = repeats if method == "GetDashboard" else max(5, repeats // 6)
                seconds = await timed(getattr(stub, method), request, n)
                lines.append(summary(name, seconds))
                loads.append(os.getloadavg())
                print(lines[-1], f"(load average {loads[-1][0]:.2f})", flush=True)
            if "dashboard, 30 days" in requests:
                reply = await stub.GetDashboard(requests["dashboard, 30 days"][1])
                print(
                    f"dashboard check: dau={reply.active_users.dau} wau={reply.active_users.wau} "
                    f"mau={reply.active_users.mau} events={reply.ingestion.total_events}",
                    flush=True,
                )
    finally:
        await service.stop(grace=1)
        await bus.aclose()
    print("\n".join(lines), flush=True)
    ones = [one for one, _, _ in loads]
    print(
        f"load average (1 min) during measure: {min(ones):.2f} .. {max(ones):.2f} "
        f"(at the end: {' / '.join(f'{v:.2f}' for v in loads[-1])} over 1/5/15 min); nproc {os.cpu_count()}",
        flush=True,
    )
