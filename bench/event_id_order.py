"""Event ids against the analytics store's unique index: random (uuid4) or time-ordered.

    SV_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python -m bench.event_id_order
    (--rows 3000000 --repeats 2 by default)

In a scratch database with the analytics migrations: COPY in chunks of 10,000 rows (one
transaction each) into a fresh table LIKE events (same keys and indexes), the bench's event
rows with new ids, once per id kind: `uuid4` (what storyverse_client made before; the anchor)
and `client` (storyverse_client's new_event_id, UUIDv7). Prints rows/s over the first and the
last 500,000 rows and the size of the event_id index. Random ids land on random pages of the
index, time-ordered ones at its right edge, so the gap widens as the table grows.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from analytics_svc.ingestion.prepare import COLUMNS
from analytics_svc.schema import MIGRATIONS
from bench.anchor import anchor_rows
from bench.dataset import IdSource, templates
from common.database import database_url
from common.migrations import apply_migrations
from common.settings import REPO_ROOT, Settings

sys.path.insert(0, str(REPO_ROOT / "storyverse_client" / "src"))
from storyverse_client.event_ids import new_event_id  # noqa: E402

CHUNK = 10_000
WINDOW = 500_000
TABLE = "bench_id_order_events"


def uuid4_id() -> str:
    return f"evt-{uuid.uuid4().hex}"


async def copy_with_ids(
    conn: asyncpg.Connection, base: list[tuple], rows: int, make_id: Callable[[], str]
) -> dict:
    await conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    await conn.execute(f"CREATE TABLE {TABLE} (LIKE events INCLUDING ALL)")
    seconds: list[float] = []
    for offset in range(0, rows, CHUNK):
        chunk = [(make_id(), *base[(offset + i) % len(base)][1:]) for i in range(CHUNK)]
        started = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table(TABLE, records=chunk, columns=COLUMNS)
        seconds.append(time.perf_counter() - started)
    per_window = WINDOW // CHUNK
    index = await conn.fetchval(f"SELECT pg_relation_size('{TABLE}_pkey')")
    await conn.execute(f"DROP TABLE {TABLE}")
    return {
        "first": WINDOW / sum(seconds[:per_window]),
        "last": WINDOW / sum(seconds[-per_window:]),
        "index_mb": index / 2**20,
    }


async def main_async(rows: int, repeats: int) -> None:
    admin_url = database_url(Settings.from_env())
    name = f"sv_bench_ids_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    try:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        await apply_migrations(pool, "analytics", MIGRATIONS)
        await pool.close()
        base = anchor_rows(templates(), CHUNK, IdSource("ids"))
        conn = await asyncpg.connect(url)
        try:
            for repeat in range(repeats):
                for kind, make_id in (("uuid4", uuid4_id), ("client", new_event_id)):
                    r = await copy_with_ids(conn, base, rows, make_id)
                    print(
                        f"{kind:7s} repeat {repeat + 1}: first 500k {r['first']:,.0f} rows/s, "
                        f"last 500k {r['last']:,.0f} rows/s, event_id index {r['index_mb']:.0f} MB",
                        flush=True,
                    )
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; rows {rows:,} per table, chunks of {CHUNK:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if args.rows < 2 * WINDOW:
        parser.error(f"--rows must be at least {2 * WINDOW}")
    asyncio.run(main_async(args.rows, args.repeats))


if __name__ == "__main__":
    main()
