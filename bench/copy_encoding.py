"""Client CPU of asyncpg's binary COPY per event row, by column group and timestamptz codec.

    PYTHONPATH=.:gen python -m bench.copy_encoding [--admin-url URL] [--rows 20000] [--repeats 3]

Rows are what ingest.prepare makes of the bench data set; they are copied in chunks of
1,000 into an UNLOGGED table with the columns of `events` (from the migrations) (PostgreSQL's own work is not
what is measured: only this process's CPU time), once with asyncpg's timestamptz codec
and once with common.pg_timestamps (what the ingestion writer's connections use).
Prints µs of CPU per row, best of --repeats.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from analytics_svc.ingestion.prepare import COLUMNS
from bench import anchor, dataset
from bench.ingest import _admin
from common import pg_timestamps
from common.migrations import apply_migrations
from common.settings import REPO_ROOT

GROUPS = {
    "all 17 columns": list(COLUMNS),
    "2 timestamps": ["ts", "received_at"],
    "11 texts": [
        c
        for c in COLUMNS
        if c not in ("ts", "received_at", "universes", "characters", "props", "creation_time")
    ],
    "2 text arrays": ["universes", "characters"],
    "props (jsonb)": ["props"],
}


async def _cpu_per_row(
    conn: asyncpg.Connection, rows: list[tuple], columns: list[str], repeats: int
) -> float:
    await conn.execute(
        f"DROP TABLE IF EXISTS copy_probe; CREATE UNLOGGED TABLE copy_probe AS SELECT {', '.join(columns)} "
        "FROM events LIMIT 0"
    )
    best = float("inf")
    for _ in range(repeats):
        await conn.execute("TRUNCATE copy_probe")
        started = time.process_time()
        for offset in range(0, len(rows), 1000):
            await conn.copy_records_to_table(
                "copy_probe", records=rows[offset : offset + 1000], columns=columns
            )
        best = min(best, time.process_time() - started)
    return best / len(rows) * 1e6


async def run(args: argparse.Namespace) -> None:
    name = f"sv_copy_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await _admin(args.admin_url, f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(args.admin_url)._replace(path=f"/{name}"))
    try:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
        try:
            await apply_migrations(pool, "analytics", REPO_ROOT / "analytics_svc" / "migrations")
            async with pool.acquire() as conn:
                await _measure(conn, args)
        finally:
            await pool.close()
    finally:
        await _admin(args.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _measure(conn: asyncpg.Connection, args: argparse.Namespace) -> None:
    rows = anchor.anchor_rows(dataset.templates(), args.rows, dataset.IdSource(uuid.uuid4().hex[:6]))
    print(f"{len(rows):,} rows of the bench data set, chunks of 1,000, µs of client CPU per row")
    for label, columns in GROUPS.items():
        index = [COLUMNS.index(c) for c in columns]
        subset = [tuple(row[i] for i in index) for row in rows]
        await pg_timestamps.uninstall(conn)
        theirs = await _cpu_per_row(conn, subset, columns, args.repeats)
        await pg_timestamps.install(conn)
        ours = await _cpu_per_row(conn, subset, columns, args.repeats)
        print(f"{label:<16} asyncpg's timestamptz codec {theirs:5.2f}   pg_timestamps {ours:5.2f}")
    await pg_timestamps.uninstall(conn)  # the pool's connection goes back as it came


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
