"""SQL of the per-minute RPC statistics (performance report)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

_SAVE = """
INSERT INTO rpc_minute_stats (minute, method, replica, calls, errors, seconds, buckets)
SELECT m, me, $3, c, e, s, string_to_array(b, ',')::bigint[]
FROM unnest($1::timestamptz[], $2::text[], $4::bigint[], $5::bigint[], $6::float8[], $7::text[])
     AS x(m, me, c, e, s, b)
ON CONFLICT (minute, method, replica) DO UPDATE
SET calls = excluded.calls, errors = excluded.errors, seconds = excluded.seconds, buckets = excluded.buckets
"""


async def save(pool: asyncpg.Pool, replica: str, rows: list[tuple]) -> None:
    """rows: (minute, method, calls, errors, seconds, buckets) — this replica's running totals."""
    if not rows:
        return
    minutes, methods, calls, errors, seconds, buckets = (list(c) for c in zip(*rows, strict=True))
    # Histograms travel comma-joined: unnest would flatten a 2-D array.
    joined = [",".join(map(str, b)) for b in buckets]
    await pool.execute(_SAVE, minutes, methods, replica, calls, errors, seconds, joined)


async def minutes(pool: asyncpg.Pool, lo: datetime, hi: datetime):
    """Every replica's rows in the range; histograms are merged by the caller."""
    return await pool.fetch(
        """SELECT minute, method, calls, errors, seconds, buckets FROM rpc_minute_stats
           WHERE minute >= $1 AND minute < $2 ORDER BY minute, method""",
        lo,
        hi,
    )


async def ingestion_lag(pool: asyncpg.Pool, lo: datetime, hi: datetime, granularity: str):
    return await pool.fetch(
        """
        SELECT date_trunc($3, stored_at AT TIME ZONE 'UTC') AS bucket, count(*) AS events,
               percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (
                   ORDER BY extract(epoch FROM stored_at - received_at)) AS lag
        FROM events WHERE stored_at >= $1 AND stored_at < $2
        GROUP BY 1 ORDER BY 1
        """,
        lo,
        hi,
        granularity,
    )
