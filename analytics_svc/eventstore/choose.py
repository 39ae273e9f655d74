"""The event store the settings name: SV_ANALYTICS_STORE=postgres (default) or clickhouse
(SV_CLICKHOUSE_URL: a server or cluster; unset: the embedded chDB engine, data in
SV_DATA_DIR/clickhouse, one process only)."""

from __future__ import annotations

import asyncpg

from analytics_svc.eventstore.base import EventStore
from analytics_svc.eventstore.postgres import PostgresEventStore
from common.settings import Settings

BACKENDS = ("postgres", "clickhouse")


async def open_event_store(settings: Settings, pool: asyncpg.Pool) -> EventStore:
    if settings.analytics_store not in BACKENDS:
        raise ValueError(
            f"SV_ANALYTICS_STORE must be one of {', '.join(BACKENDS)}: {settings.analytics_store!r}"
        )
    if settings.analytics_store == "clickhouse":
        from analytics_svc.eventstore.clickhouse import ClickHouseEventStore

        return await ClickHouseEventStore.open(
            url=settings.clickhouse_url,
            path=settings.data_dir / "clickhouse",
            database=settings.clickhouse_database,
            cluster=settings.clickhouse_cluster,
        )
    return PostgresEventStore(pool)
