"""Data retention: delete raw events older than a cut-off, in small batches, keeping rollups.

    python -m analytics_svc.data_retention --events-older-than 400d [--batch 5000] [--dry-run]

Raw events (and rejected events) older than the cut-off go, and with them the per-user
event sequences of the analytics rollup (user_day_sequences: the raw stream without
properties) of the days wholly before the cut-off; the daily rollups stay, so
long-range reports keep working.
Each batch is its own short transaction, so ingestion is never blocked for long.
With SV_ANALYTICS_STORE=clickhouse the events live there: the same policy runs on that store
(ClickHouseEventStore.delete_older). Run daily (k8s CronJob); on the embedded engine (one
process per data directory), while the service is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from datetime import UTC, datetime, timedelta

import asyncpg

from analytics_svc.eventstore.choose import open_event_store
from common.database import database_url
from common.settings import Settings

_AGE = re.compile(r"(\d+)([dh])")


def parse_age(text: str) -> timedelta:
    match = _AGE.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number of days or hours, e.g. 400d or 36h")
    amount, unit = int(match.group(1)), match.group(2)
    return timedelta(days=amount) if unit == "d" else timedelta(hours=amount)


# (table, timestamp column or expression): what the policy covers. A table may not
# exist (yet) in a given database: it is skipped.
TABLES = (
    ("events", "ts"),
    ("failed_events", "received_at"),
    ("user_day_sequences", "((day + 1)::timestamp AT TIME ZONE 'UTC')"),
)


async def delete_older(pool: asyncpg.Pool, table: str, column: str, cutoff: datetime, batch: int) -> int:
    total = 0
    while True:
        status = await pool.execute(
            f"DELETE FROM {table} WHERE ctid IN "  # noqa: S608 - table names are ours
            f"(SELECT ctid FROM {table} WHERE {column} < $1 LIMIT $2)",
            cutoff,
            batch,
        )
        deleted = int(status.rsplit(" ", 1)[1])
        total += deleted
        if deleted < batch:
            return total


async def _present(pool: asyncpg.Pool) -> list[tuple[str, str]]:
    return [(t, c) for t, c in TABLES if await pool.fetchval("SELECT to_regclass($1) IS NOT NULL", t)]


async def apply_retention(pool: asyncpg.Pool, older_than: timedelta, batch: int = 5000) -> dict[str, int]:
    cutoff = datetime.now(UTC) - older_than
    return {
        table: await delete_older(pool, table, column, cutoff, batch)
        for table, column in await _present(pool)
    }


async def count_older(pool: asyncpg.Pool, older_than: timedelta) -> dict[str, int]:
    cutoff = datetime.now(UTC) - older_than
    return {
        table: await pool.fetchval(f"SELECT count(*) FROM {table} WHERE {column} < $1", cutoff)  # noqa: S608
        for table, column in await _present(pool)
    }


async def run(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    pool = await asyncpg.create_pool(database_url(settings), min_size=1, max_size=1)
    try:
        if args.dry_run:
            counts = await count_older(pool, args.events_older_than)
        else:
            counts = await apply_retention(pool, args.events_older_than, args.batch)
        if settings.analytics_store == "clickhouse":
            store = await open_event_store(settings, pool)
            try:
                cutoff = datetime.now(UTC) - args.events_older_than
                found = await store.delete_older(cutoff, dry_run=args.dry_run)
                counts.update({f"clickhouse {table}": n for table, n in found.items()})
            finally:
                await store.close()
        verb = "would delete" if args.dry_run else "deleted"
        print(", ".join(f"{verb} {n} rows from {table}" for table, n in counts.items()))
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m analytics_svc.data_retention", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--events-older-than", type=parse_age, required=True, metavar="AGE")
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--dry-run", action="store_true")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
