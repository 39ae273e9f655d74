"""The anchor: how fast this machine's PostgreSQL takes the same rows by raw COPY.

Same rows as the service stores (ingest.prepare of the same data set), in chunks
of the service's largest group, one transaction each (a COMMIT, hence an fsync, per
chunk as in the service), from one connection, into either

- a fresh table built LIKE events (same columns, keys and indexes; the default), or
- `events` itself as the service left it (`table="events"`): the same indexes at the
  same size. COPY slows as the table grows (100k rows each into one table, this
  machine: 131k rows/s empty, 81k rows/s past 1.5M rows), and the service's table
  grows by millions of rows over a run, so this is the like-for-like yardstick.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import asyncpg
from storyverse.analytics.v1 import analytics_service_pb2 as pb
from storyverse.analytics.v1 import events_pb2

from analytics_svc.ingestion.prepare import COLUMNS, prepare
from bench.dataset import IdSource, ProtoRequests

TABLE = "bench_anchor_events"


def anchor_rows(events: list[events_pb2.Event], count: int, ids: IdSource) -> list[tuple]:
    requests = ProtoRequests(events, ids)
    batch = list(pb.RecordEventsRequest.FromString(requests.build(count)).events)
    prepared = prepare(batch, datetime.now(UTC))
    assert not prepared.rejections, prepared.rejections[:1]
    return prepared.rows


async def copy_rate(url: str, rows: list[tuple], chunk: int, table: str = TABLE) -> float:
    """Rows/s of COPY into `table`: TABLE (made fresh, emptied after) or "events" (the
    rows stay: their event_ids must be new)."""
    fresh = table == TABLE
    conn = await asyncpg.connect(url)
    try:
        if fresh:
            await conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
            await conn.execute(f"CREATE TABLE {TABLE} (LIKE events INCLUDING ALL)")
        before = 0 if fresh else await conn.fetchval(f"SELECT count(*) FROM {table}")
        started = time.perf_counter()
        for offset in range(0, len(rows), chunk):
            async with conn.transaction():
                await conn.copy_records_to_table(
                    table, records=rows[offset : offset + chunk], columns=COLUMNS
                )
        elapsed = time.perf_counter() - started
        stored = await conn.fetchval(f"SELECT count(*) FROM {table}") - before
        assert stored == len(rows), (stored, len(rows))
        if fresh:
            await conn.execute(f"TRUNCATE {TABLE}")
        return len(rows) / elapsed
    finally:
        await conn.close()
