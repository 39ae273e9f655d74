"""Reports: one function per report type, each returning tables and a summary.

story_creation, feature_usage and engagement read raw events (they need users,
sessions and percentiles per bucket at any granularity); content reads the daily
rollups (+ raw for days not rolled up); funnel, retention, performance and experiment
live in their own modules.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import asyncpg

from analytics_svc.churn import risk as churn_risk
from analytics_svc.eventstore.base import EventStore
from analytics_svc.eventstore.postgres import PostgresEventStore
from analytics_svc.experiments import overview as experiments
from analytics_svc.figures import Report, Table
from analytics_svc.reports import funnels, performance, retention
from analytics_svc.requests import ReportParams, day_start

CONTENT_TABLES = {
    "universe": "universes",
    "character": "characters",
    "theme": "themes",
    "moral_lesson": "moral_lessons",
}


async def build(pool: asyncpg.Pool, params: ReportParams, events: EventStore | None = None) -> Report:
    """`events` holds the raw events (default: PostgreSQL, the same pool); definitions of
    experiments and RPC statistics are always in PostgreSQL."""
    return await BUILDERS[params.report_type](pool, params, events or PostgresEventStore(pool))


def bucket_label(bucket: datetime | date, granularity: str) -> str:
    if granularity == "hour":
        return bucket.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
    return str(bucket.date() if isinstance(bucket, datetime) else bucket)


def _bounds(params: ReportParams) -> tuple[datetime, datetime]:
    return day_start(params.start), day_start(params.end + timedelta(days=1))


def _split(params: ReportParams) -> list[str]:
    return [params.breakdown] if params.breakdown else []


async def story_creation(pool: asyncpg.Pool, params: ReportParams, events: EventStore) -> Report:
    lo, hi = _bounds(params)
    rows = await events.story_creation(lo, hi, params.granularity, params.filters, params.breakdown)
    split = _split(params)
    table = Table(
        "story_creation",
        ["bucket", *split, "stories", "creators", "creation_time_median", "creation_time_p90"],
    )
    summary: dict[str, object] = {
        "stories": 0,
        "creators": 0,
        "creation_time_median": None,
        "creation_time_p90": None,
    }
    for r in rows:
        if r["is_total"]:
            summary = {
                "stories": r["stories"],
                "creators": r["creators"],
                "creation_time_median": r["median"],
                "creation_time_p90": r["p90"],
            }
            continue
        key = [r["grp"]] if split else []
        table.rows.append(
            [
                bucket_label(r["bucket"], params.granularity),
                *key,
                r["stories"],
                r["creators"],
                r["median"],
                r["p90"],
            ]
        )
    return Report(params.report_type, str(params.start), str(params.end), [table], summary, "raw")


async def feature_usage(pool: asyncpg.Pool, params: ReportParams, events: EventStore) -> Report:
    lo, hi = _bounds(params)
    rows = await events.feature_usage(lo, hi, params.granularity, params.filters, params.breakdown)
    active = await events.active_users(lo, hi, params.filters)
    split = _split(params)
    features = Table("features", ["feature", *split, "uses", "users", "share_of_active_users"])
    over_time = Table("features_over_time", ["bucket", "feature", *split, "uses", "users"])
    summary: dict[str, object] = {"uses": 0, "users": 0, "active_users": active}
    for r in rows:
        key = [r["grp"]] if split else []
        if r["level"] == 0:
            over_time.rows.append(
                [bucket_label(r["bucket"], params.granularity), r["feature"], *key, r["uses"], r["users"]]
            )
        elif r["level"] == 4:  # bucket rolled up: per feature (and group)
            features.rows.append(
                [r["feature"], *key, r["uses"], r["users"], r["users"] / active if active else 0.0]
            )
        else:
            summary.update(uses=r["uses"], users=r["users"])
    features.rows.sort(key=lambda row: (-row[-3], row[0]))
    return Report(
        params.report_type, str(params.start), str(params.end), [features, over_time], summary, "raw"
    )


async def engagement(pool: asyncpg.Pool, params: ReportParams, events: EventStore) -> Report:
    lo, hi = _bounds(params)
    rows = await events.engagement(lo, hi, params.granularity, params.filters, params.breakdown)
    split = _split(params)
    names = ["sessions", "users", "events_per_session", "mean_session_seconds", "median_session_seconds"]
    table = Table("engagement", ["bucket", *split, *names])
    summary: dict[str, object] = dict.fromkeys(names, 0)
    for r in rows:
        values = [r["sessions"], r["users"], r["events_per_session"], r["mean_seconds"], r["median_seconds"]]
        if r["is_total"]:
            summary = dict(zip(names, values, strict=True))
        else:
            key = [r["grp"]] if split else []
            table.rows.append([bucket_label(r["bucket"], params.granularity), *key, *values])
    return Report(params.report_type, str(params.start), str(params.end), [table], summary, "raw")


async def content(pool: asyncpg.Pool, params: ReportParams, events: EventStore) -> Report:
    """Popularity (uses in story creations, share within the kind) and trend: uses in the
    second half of the range against the first half (the middle day of an odd range is
    in neither); trend = (second - first) / first, empty when first is 0."""
    rows, source = await events.content(params)
    days = (params.end - params.start).days + 1
    half = days // 2
    first_end = params.start + timedelta(days=half)  # exclusive
    second_start = params.end - timedelta(days=half - 1)
    split = _split(params)
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    over_time: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for r in rows:
        key = (r["kind"], r["grp"], r["key"])
        totals[key][0] += r["uses"]
        if half and r["day"] < first_end:
            totals[key][1] += r["uses"]
        if half and r["day"] >= second_start:
            totals[key][2] += r["uses"]
        bucket = r["day"] - timedelta(days=r["day"].weekday()) if params.granularity == "week" else r["day"]
        over_time[(str(bucket), r["kind"], r["grp"], r["key"])] += r["uses"]
    kind_totals: dict[tuple[str, str], int] = defaultdict(int)
    for (kind, grp, _), (uses, _, _) in totals.items():
        kind_totals[(kind, grp)] += uses
    tables = []
    for kind, name in CONTENT_TABLES.items():
        table = Table(name, [*split, "key", "uses", "share", "first_half", "second_half", "trend"])
        items = [(grp, key, v) for (k, grp, key), v in totals.items() if k == kind]
        for grp, key, (uses, first, second) in sorted(items, key=lambda i: (i[0], -i[2][0], i[1])):
            trend = (second - first) / first if first else None
            table.rows.append(
                [*([grp] if split else []), key, uses, uses / kind_totals[(kind, grp)], first, second, trend]
            )
        tables.append(table)
    trend_table = Table("content_over_time", ["bucket", "kind", *split, "key", "uses"])
    for (bucket, kind, grp, key), uses in sorted(over_time.items()):
        trend_table.rows.append([bucket, kind, *([grp] if split else []), key, uses])
    tables.append(trend_table)
    summary = {
        f"{name}_uses": sum(v for (k, _), v in kind_totals.items() if k == kind)
        for kind, name in CONTENT_TABLES.items()
    }
    return Report(params.report_type, str(params.start), str(params.end), tables, summary, source)


BUILDERS = {
    "story_creation": story_creation,
    "feature_usage": feature_usage,
    "funnel": funnels.report,
    "retention": retention.report,
    "engagement": engagement,
    "content": content,
    "performance": performance.report,
    "experiment": experiments.report,
    "churn_risk": churn_risk.report,
}
