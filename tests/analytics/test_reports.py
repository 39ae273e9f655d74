"""Dashboard and reports over gRPC on loopback, checked against plain-Python
computations over the same generated events (tests/analytics/reference.py)."""

from __future__ import annotations

from datetime import date, timedelta

import grpc
import pytest
from google.protobuf import json_format
from storyverse.analytics.v1 import analytics_service_pb2 as pb
from storyverse.analytics.v1 import analytics_service_pb2_grpc as pb_grpc

from analytics_svc.reports import csv_export
from analytics_svc.requests import parse_step
from analytics_svc.rollups import rebuild as rollups
from common.errors import violations_from_trailers
from tests.analytics import reference as ref
from tests.analytics.builder import stream
from tests.analytics.conftest import record

START = date(2023, 3, 6)  # a Monday; this module owns 2023-03-06 .. 2023-03-26
DAYS = 14
END = START + timedelta(days=DAYS - 1)
ROLLED = 7  # the first week is rolled up, the second read raw


@pytest.fixture(scope="module")
async def world(analytics, bus, settings):
    events = stream(seed=11, first_day=START, days=DAYS, users=40, per_user=40)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{analytics.port}") as channel:
        await record(pb_grpc.AnalyticsServiceStub(channel), bus, analytics, events)
    await rollups.run(analytics.pool, START, START + timedelta(days=ROLLED - 1))
    return events


def table(reply: pb.GetReportResponse, name: str) -> list[dict]:
    found = next(t for t in reply.tables if t.name == name)
    return [dict(zip(found.columns, json_format.MessageToDict(row), strict=True)) for row in found.rows]


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a == pytest.approx(b, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("filters", [{}, {"platform": "ios"}, {"age_group": "6-8", "device_type": "tablet"}])
async def test_dashboard_matches_reference(stub, world, filters):
    reply = await stub.GetDashboard(
        pb.GetDashboardRequest(start_date=str(START), end_date=str(END), **filters)
    )
    want = ref.active_users(world, START, END, filters)
    active = reply.active_users
    assert (active.dau, active.wau, active.mau) == (want["dau"], want["wau"], want["mau"])
    assert [p.value for p in active.daily.points] == want["daily"]
    assert active.stickiness == pytest.approx(want["stickiness"])
    in_range = [e for e in world if ref.matches_filters(e, filters) and ref.in_days(e, START, END)]
    creations = [e for e in in_range if e.event_type == "story_creation"]
    per_day = [sum(1 for e in creations if e.ts.date() == START + timedelta(days=i)) for i in range(DAYS)]
    assert [p.value for p in reply.story_creations.points] == per_day
    by_type = {s.name: sum(p.value for p in s.points) for s in reply.events_by_type}
    assert by_type == {
        t: sum(1 for e in in_range if e.event_type == t) for t in {e.event_type for e in in_range}
    }
    uses = ref.content_uses(world, START, END, filters)
    for kind, got in [
        ("universe", reply.top_universes),
        ("character", reply.top_characters),
        ("theme", reply.top_themes),
        ("moral_lesson", reply.top_moral_lessons),
        ("universe_pair", reply.top_universe_pairs),
    ]:
        assert [(i.key, i.value) for i in got] == ref.top(uses[kind])
        if got:
            assert got[0].share == pytest.approx(got[0].value / sum(uses[kind].values()))
    times = [e.creation_time for e in creations if e.creation_time is not None]
    assert reply.creation_time.count == len(times)
    assert reply.creation_time.median == pytest.approx(ref.percentile_cont(times, 0.5) or 0.0)
    assert reply.creation_time.p90 == pytest.approx(ref.percentile_cont(times, 0.9) or 0.0)
    devices = {i.key: i.value for i in reply.device_split}
    assert devices == {
        d: sum(1 for e in in_range if (e.device_type or "unknown") == d)
        for d in {e.device_type or "unknown" for e in in_range}
    }
    assert reply.ingestion.total_events == len(in_range)
    assert list(reply.running_experiments) == []


async def test_dashboard_reads_rollups_and_raw(analytics, world):
    from analytics_svc.reports import dashboard
    from analytics_svc.requests import DashboardParams

    board = await dashboard.build(analytics.pool, DashboardParams(START, END))
    assert board.source == "rollups+raw"
    fully_rolled = await dashboard.build(
        analytics.pool, DashboardParams(START, START + timedelta(days=ROLLED - 1))
    )
    assert fully_rolled.source in ("rollups", "rollups+raw")  # MAU looks back before START (raw)


@pytest.mark.parametrize(("granularity", "breakdown"), [("day", ""), ("week", "platform"), ("hour", "")])
async def test_story_creation_report(stub, world, granularity, breakdown):
    reply = await stub.GetReport(
        pb.GetReportRequest(
            report_type="story_creation",
            start_date=str(START),
            end_date=str(END),
            granularity=granularity,
            breakdown=breakdown,
        )
    )
    want = ref.story_creation(world, START, END, granularity, {}, breakdown)
    got = {}
    for row in table(reply, "story_creation"):
        key = (row["bucket"], row.get(breakdown, "") if breakdown else "")
        got[key] = (row["stories"], row["creators"], row["creation_time_median"], row["creation_time_p90"])
    assert set(got) == set(want)
    for key, (stories, creators, median, p90) in want.items():
        assert got[key][:2] == (stories, creators)
        assert close(got[key][2], median) and close(got[key][3], p90)
    assert reply.summary["stories"] == sum(v[0] for v in want.values())
    assert reply.source == "raw"


async def test_feature_usage_report(stub, world):
    reply = await stub.GetReport(
        pb.GetReportRequest(
            report_type="feature_usage", start_date=str(START), end_date=str(END), platform="android"
        )
    )
    want = ref.feature_usage(world, START, END, {"platform": "android"})
    got = {r["feature"]: (r["uses"], r["users"]) for r in table(reply, "features")}
    assert got == want
    assert reply.summary["uses"] == sum(u for u, _ in want.values())


@pytest.mark.parametrize(("granularity", "breakdown"), [("day", ""), ("week", "device_type")])
async def test_engagement_report(stub, world, granularity, breakdown):
    reply = await stub.GetReport(
        pb.GetReportRequest(
            report_type="engagement",
            start_date=str(START),
            end_date=str(END),
            granularity=granularity,
            breakdown=breakdown,
        )
    )
    want = ref.engagement(world, START, END, granularity, {}, breakdown)
    rows = table(reply, "engagement")
    assert len(rows) == len(want)
    for row in rows:
        sessions, users, per_session, mean, median = want[
            (row["bucket"], row.get(breakdown, "") if breakdown else "")
        ]
        assert (row["sessions"], row["users"]) == (sessions, users)
        assert close(row["events_per_session"], per_session)
        assert close(row["mean_session_seconds"], mean) and close(row["median_session_seconds"], median)


async def test_content_report_popularity_and_trend(stub, world):
    reply = await stub.GetReport(
        pb.GetReportRequest(report_type="content", start_date=str(START), end_date=str(END))
    )
    assert reply.source == "rollups+raw"
    half = DAYS // 2
    first = ref.content_uses(world, START, START + timedelta(days=half - 1), {})
    second = ref.content_uses(world, END - timedelta(days=half - 1), END, {})
    total = ref.content_uses(world, START, END, {})
    for kind, name in [("universe", "universes"), ("character", "characters"), ("theme", "themes")]:
        rows = {r["key"]: r for r in table(reply, name)}
        assert {k: r["uses"] for k, r in rows.items()} == dict(total[kind])
        for key, row in rows.items():
            a, b = first[kind].get(key, 0), second[kind].get(key, 0)
            assert (row["first_half"], row["second_half"]) == (a, b)
            assert close(row["trend"], (b - a) / a if a else None)
            assert row["share"] == pytest.approx(row["uses"] / sum(total[kind].values()))


@pytest.mark.parametrize("order", ["ordered", "strict"])
async def test_funnel_report(stub, world, order):
    steps = ["session_start", "story_started", "story_creation"]
    reply = await stub.GetReport(
        pb.GetReportRequest(
            report_type="funnel",
            start_date=str(START),
            end_date=str(END),
            steps=steps,
            conversion_window_hours=2,
            funnel_order=order,
            breakdown="platform",
        )
    )
    want = ref.funnel(world, [parse_step(s) for s in steps], order, 7200, START, END, {}, "platform")
    got: dict[str, list] = {}
    for row in table(reply, "funnel"):
        got.setdefault(row["platform"], []).append(
            (row["users"], row["median_seconds_from_previous"], row["median_seconds_from_first"])
        )
    assert set(got) == set(want)
    for group, steps_want in want.items():
        for (users, prev, first), (g_users, g_prev, g_first) in zip(steps_want, got[group], strict=True):
            assert g_users == users
            assert close(g_prev, prev) and close(g_first, first)


@pytest.mark.parametrize(
    ("unit", "start_event", "return_event"),
    [("day", "", ""), ("week", "", ""), ("day", "story_creation", "story_view")],
)
async def test_retention_report(stub, world, unit, start_event, return_event):
    periods = 4 if unit == "week" else 10
    reply = await stub.GetReport(
        pb.GetReportRequest(
            report_type="retention",
            start_date=str(START),
            end_date=str(END),
            granularity=unit,
            periods=periods,
            start_event=start_event,
            return_event=return_event,
        )
    )
    want = ref.retention(world, START, END, unit, periods, start_event, return_event)
    bounded = {r["cohort"]: r for r in table(reply, "retention")}
    later = {r["cohort"]: r for r in table(reply, "retention_or_later")}
    assert set(bounded) == {str(c) for c in want}
    for cohort, (size, in_period, or_later) in want.items():
        row, row_later = bounded[str(cohort)], later[str(cohort)]
        assert row["cohort_size"] == size
        assert [row[f"period_{n}"] for n in range(periods + 1)] == in_period
        assert [row_later[f"period_{n}"] for n in range(periods + 1)] == or_later


async def test_export_csv_has_one_section_per_table(stub, world):
    request = dict(report_type="content", start_date=str(START), end_date=str(END), granularity="week")
    report = await stub.GetReport(pb.GetReportRequest(**request))
    export = await stub.ExportReport(pb.ExportReportRequest(**request))
    assert export.body.content_type.startswith("text/csv")
    sections = csv_export.parse(export.body.data.decode())
    assert list(sections) == [t.name for t in report.tables]
    for t in report.tables:
        header, *rows = sections[t.name]
        assert header == list(t.columns)
        assert len(rows) == len(t.rows)
        for row, want in zip(rows, t.rows, strict=True):
            for cell, value in zip(row, json_format.MessageToDict(want), strict=True):
                if value is None:
                    assert cell == ""
                elif isinstance(value, int | float):
                    assert float(cell) == pytest.approx(value, abs=1e-6)
                else:
                    assert cell == value


async def test_experiment_report_answers_no_such_experiment(stub):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetReport(pb.GetReportRequest(report_type="experiment", experiment_key="new-onboarding"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "no such experiment" in caught.value.details()


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"report_type": "revenue"}, "report_type"),
        ({"report_type": ""}, "report_type"),
        ({"report_type": "content", "granularity": "month"}, "granularity"),
        ({"report_type": "content", "start_date": "2023-03-10", "end_date": "2023-03-01"}, "start_date"),
        ({"report_type": "content", "start_date": "10/03/2023"}, "start_date"),
        ({"report_type": "funnel", "steps": ["session_start"]}, "steps"),
        ({"report_type": "funnel", "steps": ["session_start", "story_deleted"]}, "steps[1]"),
        ({"report_type": "funnel", "steps": ["session_start", "story_creation[colour=red]"]}, "steps[1]"),
        ({"report_type": "funnel", "steps": ["a", "b"], "funnel_order": "loose"}, "funnel_order"),
        ({"report_type": "retention", "granularity": "hour"}, "granularity"),
        ({"report_type": "retention", "return_event": "story_deleted"}, "return_event"),
        ({"report_type": "retention", "breakdown": "theme"}, "breakdown"),
        ({"report_type": "retention", "periods": 500}, "periods"),
        ({"report_type": "experiment"}, "experiment_key"),
        ({"report_type": "engagement", "breakdown": "colour"}, "breakdown"),
        ({"report_type": "story_creation", "platform": "amiga"}, "platform"),
    ],
)
async def test_bad_report_parameters_are_invalid_argument_naming_the_field(stub, request_fields, field):
    for message, call in ((pb.GetReportRequest, stub.GetReport), (pb.ExportReportRequest, stub.ExportReport)):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(message(**request_fields))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        fields = [v.field for v in violations_from_trailers(caught.value.trailing_metadata())]
        assert field in fields, fields


async def test_dashboard_rejects_reversed_range(stub):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetDashboard(pb.GetDashboardRequest(start_date="2023-03-10", end_date="2023-03-01"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in violations_from_trailers(caught.value.trailing_metadata())] == ["start_date"]


def test_export_request_mirrors_report_request():
    report = [(f.name, f.number, f.type) for f in pb.GetReportRequest.DESCRIPTOR.fields]
    export = [(f.name, f.number, f.type) for f in pb.ExportReportRequest.DESCRIPTOR.fields]
    assert report == export
