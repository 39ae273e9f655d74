"""The model registry: list, activate, roll back. Archives in the artifact store, rows in
reco_model_versions; activating sends NOTIFY reco_models so services switch within a second.

    python -m reco_svc.registry list
    python -m reco_svc.registry activate v20250320T143000-ab12
    python -m reco_svc.registry rollback     # back to the version active before the current one
"""

from __future__ import annotations

import argparse
import asyncio
import json

from common.database import create_pool, database_url
from common.settings import Settings
from reco_svc import store


async def _main(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    pool = await create_pool(settings, database_url(settings))
    try:
        if args.command == "list":
            for row in await store.list_versions(pool, args.limit):
                mark = "*" if row["active"] else " "
                print(f"{mark} {row['version']}  {row['created_at']:%Y-%m-%d %H:%M:%S}  {row['description']}")
                metrics = row["metrics"]
                print(f"    metrics: {metrics if isinstance(metrics, str) else json.dumps(metrics)}")
                tuning = row["tuning"]
                if tuning:
                    tuning = json.loads(tuning) if isinstance(tuning, str) else tuning
                    print(f"    tuning: {tuning.get('reason', '')}")
                    print(f"    chosen: {json.dumps(tuning.get('served_params', tuning.get('params')))}")
            return 0
        if args.command == "activate":
            if not await store.activate(pool, args.version):
                print(f"no version {args.version!r}")
                return 1
            print(f"activated {args.version}")
            return 0
        result = await store.rollback(pool)
        if result is None:
            print("nothing to roll back to")
            return 1
        print(f"rolled back from {result[1]} to {result[0]}")
        return 0
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Recommendation model registry.")
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="versions, newest first (* = active)")
    listing.add_argument("--limit", type=int, default=20)
    activate = sub.add_parser("activate", help="serve this version")
    activate.add_argument("version")
    sub.add_parser("rollback", help="serve the version active before the current one")
    raise SystemExit(asyncio.run(_main(parser.parse_args())))


if __name__ == "__main__":
    main()
