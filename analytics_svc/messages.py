"""Domain results → protobuf messages of the contract."""

from __future__ import annotations

import decimal
from datetime import UTC, date, datetime

from google.api import httpbody_pb2
from google.protobuf import struct_pb2
from storyverse.analytics.v1 import analytics_service_pb2 as pb

from analytics_svc.churn.risk import AT_RISK_BELOW
from analytics_svc.churn.store import AtRisk
from analytics_svc.figures import Distribution, Ranked, Report, Series
from analytics_svc.reports import csv_export
from analytics_svc.reports.click_through import ClickThrough, ClickThroughReport
from analytics_svc.reports.dashboard import Dashboard


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def scalar(value: object) -> object:
    """A value a google.protobuf.Value can hold."""
    if value is None or isinstance(value, bool | str | int | float):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def series(s: Series) -> pb.Series:
    return pb.Series(name=s.name, points=[pb.Point(t=t, value=v) for t, v in s.points])


def items(values: list[Ranked]) -> list[pb.RankedItem]:
    return [pb.RankedItem(key=v.key, value=v.value, share=v.share) for v in values]


def distribution(d: Distribution) -> pb.Distribution:
    return pb.Distribution(count=d.count, mean=d.mean, median=d.median, p90=d.p90)


def dashboard(board: Dashboard) -> pb.GetDashboardResponse:
    rt = board.realtime
    return pb.GetDashboardResponse(
        start_date=board.start,
        end_date=board.end,
        active_users=pb.ActiveUsers(
            dau=board.dau,
            wau=board.wau,
            mau=board.mau,
            stickiness=board.stickiness,
            daily=series(board.daily_users),
        ),
        events_by_type=[series(s) for s in board.events_by_type],
        story_creations=series(board.story_creations),
        top_universes=items(board.top["top_universes"]),
        top_characters=items(board.top["top_characters"]),
        top_themes=items(board.top["top_themes"]),
        top_moral_lessons=items(board.top["top_moral_lessons"]),
        top_universe_pairs=items(board.top["top_universe_pairs"]),
        creation_time=distribution(board.creation_time),
        device_split=items(board.device_split),
        platform_split=items(board.platform_split),
        ingestion=pb.IngestionHealth(
            events_per_second=board.ingestion.events_per_second,
            processing_lag_p50_seconds=board.ingestion.lag_p50,
            processing_lag_p99_seconds=board.ingestion.lag_p99,
            failed_events=board.ingestion.failed_events,
            total_events=board.ingestion.total_events,
        ),
        running_experiments=[
            pb.RunningExperiment(
                key=e.key,
                description=e.description,
                variants=e.variants,
                started_at=e.started_at,
                exposed_users=e.exposed_users,
            )
            for e in board.running_experiments
        ],
        realtime=pb.Realtime(
            window_minutes=rt.window_minutes,
            events=rt.events,
            active_users=rt.active_users,
            events_per_minute=series(rt.per_minute),
        )
        if rt
        else None,
        generated_at=now_text(),
        source=board.source,
        churn_risk=churn_risk(board.churn_risk),
    )


def churn_risk(figures: AtRisk) -> pb.ChurnRisk:
    n = figures.active_children
    return pb.ChurnRisk(
        active_children=n,
        at_risk=figures.at_risk,
        at_risk_share=figures.at_risk / n if n else 0.0,
        mean_p_return_7d=figures.mean_7d,
        mean_p_return_28d=figures.mean_28d,
        at_risk_below=AT_RISK_BELOW,
        trained_at=scalar(figures.trained_at) or "",
        at_risk_by_age_group=[
            pb.RankedItem(key=age, value=risk, share=risk / children if children else 0.0)
            for age, children, risk in figures.by_age_group
        ],
    )


def click_through_row(row: ClickThrough) -> pb.ClickThrough:
    return pb.ClickThrough(
        recommendation_type=row.recommendation_type,
        model_version=row.model_version,
        shown=row.shown,
        clicked=row.clicked,
        click_through_rate=row.rate,
    )


def click_through(result: ClickThroughReport) -> pb.GetRecommendationClickThroughResponse:
    return pb.GetRecommendationClickThroughResponse(
        start_date=result.start,
        end_date=result.end,
        total=click_through_row(result.total),
        by_type=[click_through_row(r) for r in result.by_type],
        by_model_version=[click_through_row(r) for r in result.by_model_version],
        by_model_version_and_type=[click_through_row(r) for r in result.by_model_version_and_type],
        generated_at=now_text(),
        source=result.source,
    )


def report(result: Report) -> pb.GetReportResponse:
    summary = struct_pb2.Struct()
    summary.update({k: scalar(v) for k, v in result.summary.items()})
    tables = []
    for table in result.tables:
        rows = []
        for row in table.rows:
            values = struct_pb2.ListValue()
            values.extend([scalar(v) for v in row])
            rows.append(values)
        tables.append(pb.ReportTable(name=table.name, columns=table.columns, rows=rows))
    return pb.GetReportResponse(
        report_type=result.report_type,
        start_date=result.start,
        end_date=result.end,
        tables=tables,
        summary=summary,
        source=result.source,
        generated_at=now_text(),
    )


def export(result: Report) -> pb.ExportReportResponse:
    body = httpbody_pb2.HttpBody(
        content_type="text/csv; charset=utf-8", data=csv_export.render(result).encode()
    )
    return pb.ExportReportResponse(body=body)
