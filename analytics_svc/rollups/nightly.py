"""python -m analytics_svc.rollups.nightly: the nightly job, run by cron or by hand.

    python -m analytics_svc.rollups.nightly                       # yesterday (UTC)
    python -m analytics_svc.rollups.nightly --date 2025-03-20
    python -m analytics_svc.rollups.nightly --from 2025-03-01 --to 2025-03-20

Idempotent: re-running a day rebuilds it to the same rows. Uses SV_DATABASE_URL.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import date, timedelta

from analytics_svc.requests import today
from analytics_svc.rollups import rebuild as rollups
from analytics_svc.schema import MIGRATIONS
from common.database import create_pool
from common.migrations import apply_migrations
from common.settings import Settings


def parse_args(argv: list[str] | None = None) -> tuple[date, date]:
    parser = argparse.ArgumentParser(
        prog="python -m analytics_svc.rollups.nightly",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--date", type=date.fromisoformat, help="one day (UTC), YYYY-MM-DD")
    parser.add_argument("--from", dest="first", type=date.fromisoformat, help="first day, inclusive")
    parser.add_argument("--to", dest="last", type=date.fromisoformat, help="last day, inclusive")
    args = parser.parse_args(argv)
    if args.date and (args.first or args.last):
        parser.error("give either --date or --from/--to")
    if args.date:
        return args.date, args.date
    if args.first or args.last:
        if not (args.first and args.last):
            parser.error("--from and --to go together")
        if args.first > args.last:
            parser.error("--from must not be after --to")
        return args.first, args.last
    yesterday = today() - timedelta(days=1)
    return yesterday, yesterday


async def main(first: date, last: date) -> None:
    settings = Settings.from_env()
    pool = await create_pool(settings, bounded=False)  # a batch job: long statements
    try:
        await apply_migrations(pool, "analytics", MIGRATIONS)
        print(f"rolling up {first} .. {last}", flush=True)
        total = await rollups.run(pool, first, last, progress=lambda line: print(line, flush=True))
        print(f"done: {total:,} events rolled up", flush=True)
    finally:
        await pool.close()


if __name__ == "__main__":
    asyncio.run(main(*parse_args()))
