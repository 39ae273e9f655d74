"""Events in the service's PostgreSQL database: the `events` table, its nightly rollups and
the queries of analytics_svc/queries/ (what the service did before the protocol existed).

Ingestion keeps its group-commit writer (ingestion/writer.py) on this backend; `append`
is the plain path (bulk loads, tests)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import asyncpg

from analytics_svc.churn import store as churn_sql
from analytics_svc.eventstore.base import DashboardRows
from analytics_svc.experiments import queries as experiment_sql
from analytics_svc.experiments import store as experiment_store
from analytics_svc.experiments.model import Metric
from analytics_svc.ingestion import store
from analytics_svc.queries import daily
from analytics_svc.queries import dashboard as dashboard_sql
from analytics_svc.queries import performance as performance_sql
from analytics_svc.queries import recommendations as recommendations_sql
from analytics_svc.queries import reports as reports_sql
from analytics_svc.reports import creation_times, funnels, retention
from analytics_svc.requests import DashboardParams, Filters, ReportParams


class PostgresEventStore:
    name = "postgres"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def append(self, rows: Sequence[tuple]) -> set[str]:
        async with self.pool.acquire() as conn, conn.transaction():
            return await store.insert_events(conn, rows)

    async def erase_user(self, user_id: str) -> int:
        status = await self.pool.execute("DELETE FROM events WHERE user_id = $1", user_id)
        return int(status.split()[-1])

    async def dashboard(self, params: DashboardParams, activity_from: date) -> DashboardRows:
        start, end, filters = params.start, params.end, params.filters
        cov_activity = await daily.coverage(self.pool, activity_from, end)
        cov = await daily.coverage(self.pool, start, end)
        active = await _active_rows(self.pool, cov_activity, filters, activity_from, start, end)
        counts = await dashboard_sql.event_counts(self.pool, cov, filters)
        content = await dashboard_sql.content(self.pool, cov, filters)
        ctime = await creation_times.compute(self.pool, start, end, filters)
        return DashboardRows(active, counts, content, ctime, {cov.source, cov_activity.source})

    async def ingestion(self, since: datetime) -> tuple[int, list[float] | None]:
        row = await dashboard_sql.stored_since(self.pool, since)
        return row["stored"], row["lag"]

    async def funnel(self, params: ReportParams, window_seconds: int) -> tuple[list[dict], str]:
        return await funnels.compute_seconds(self.pool, params, window_seconds)

    async def retention(self, params: ReportParams) -> tuple[dict, str]:
        return await retention.compute(self.pool, params)

    async def story_creation(self, lo, hi, granularity, filters, breakdown) -> list:
        return await reports_sql.story_creation(self.pool, lo, hi, granularity, filters, breakdown)

    async def feature_usage(self, lo, hi, granularity, filters, breakdown) -> list:
        return await reports_sql.feature_usage(self.pool, lo, hi, granularity, filters, breakdown)

    async def daily_activity(self, lo: datetime, hi: datetime) -> list:
        return await churn_sql.daily_activity(self.pool, lo, hi)

    async def first_seen(self, user_ids: Sequence[str]) -> dict[str, datetime]:
        return await churn_sql.first_seen(self.pool, user_ids)

    async def active_users(self, lo, hi, filters) -> int:
        return await reports_sql.active_users(self.pool, lo, hi, filters)

    async def engagement(self, lo, hi, granularity, filters, breakdown) -> list:
        return await reports_sql.engagement(self.pool, lo, hi, granularity, filters, breakdown)

    async def content(self, params: ReportParams) -> tuple[list, str]:
        cov = await daily.coverage(self.pool, params.start, params.end)
        return await reports_sql.content(self.pool, cov, params.filters, params.breakdown), cov.source

    async def ingestion_lag(self, lo, hi, granularity) -> list:
        return await performance_sql.ingestion_lag(self.pool, lo, hi, granularity)

    async def exposed_users(self, keys: list[str], since: list[datetime]) -> dict[str, int]:
        return await experiment_store.exposed_users(self.pool, keys, since)

    async def experiment_exposures(
        self, key: str, lo: datetime, hi: datetime, filters: Filters, since: datetime | None
    ) -> tuple[dict[str, int], dict[str, int], int]:
        return await experiment_sql.exposures(self.pool, key, lo, hi, filters, since)

    async def experiment_moments(
        self, metric: Metric, key: str, lo: datetime, hi: datetime, filters: Filters
    ) -> dict:
        return await experiment_sql.moments(self.pool, metric, key, lo, hi, filters)

    async def recommendation_clicks(self, params: DashboardParams) -> tuple[list, str]:
        cov = await daily.coverage(self.pool, params.start, params.end, daily.RECOMMENDATION_CLICKS_VERSION)
        return await recommendations_sql.clicks(self.pool, cov, params.filters), cov.source

    async def close(self) -> None:
        return None


async def _active_rows(pool, cov: daily.Coverage, filters, activity_from, start, end) -> list[dict]:
    """Rows in the shape of dashboard_sql.active_users: precomputed by the rollup when possible."""
    if not cov.unrolled:
        rows = await dashboard_sql.precomputed_active(pool, filters, activity_from, start, end)
        if rows is not None:
            last = next((r for r in rows if r["day"] == end), None)
            totals = {"kind": "totals", "day": None, "dau": 0, "wau": 0, "mau": 0}
            if last is not None:
                totals.update(dau=last["dau"], wau=last["wau"], mau=last["mau"])
            return [totals, *({"kind": "day", "day": r["day"], "dau": r["dau"]} for r in rows)]
    return [dict(r) for r in await dashboard_sql.active_users(pool, cov, filters, start, end)]
