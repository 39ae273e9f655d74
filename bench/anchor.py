"""The anchor: how fast this machine's PostgreSQL takes the same rows by raw COPY.

Same rows as the service stores (ingest.prepare of the same data set), into a
table built LIKE events (same columns, keys and indexes), in chunks of the
service's largest group, one transaction each (a COMMIT, hence an fsync, per
chunk as in the service), from one connection.
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


async def copy_rate(url: str, rows: list[tuple], chunk: int) -> float:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"DROP TABLE IF EXISTS {TABLE}; CREATE TABLE {TABLE} (LIKE events INCLUDING ALL)")
        started = time.perf_counter()
        for offset in range(0, len(rows), chunk):
            async with conn.transaction():
                await conn.copy_records_to_table(
                    TABLE, records=rows[offset : offset + chunk], columns=COLUMNS
                )
        elapsed = time.perf_counter() - started
        stored = await conn.fetchval(f"SELECT count(*) FROM {TABLE}")
        assert stored == len(rows), (stored, len(rows))
        await conn.execute(f"TRUNCATE {TABLE}")
        return len(rows) / elapsed
    finally:
        await conn.close()
