"""Manage API keys.

    python -m common.apikeys create --scopes ingest,read --name demo   # prints the key once
    python -m common.apikeys list
    python -m common.apikeys revoke <key id>

Uses SV_DATABASE_URL (or the embedded PostgreSQL, like the services). The key is
shown only at creation: only its SHA-256 is stored.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import asyncpg

from common.auth import KeyStore, generate
from common.database import database_url
from common.migrations import apply_migrations
from common.scopes import SCOPES
from common.settings import Settings

MIGRATIONS = Path(__file__).parent / "sql"


async def open_store(settings: Settings) -> tuple[asyncpg.Pool, KeyStore]:
    pool = await asyncpg.create_pool(database_url(settings), min_size=1, max_size=2)
    await apply_migrations(pool, "common", MIGRATIONS)
    return pool, KeyStore(pool)


async def run(args: argparse.Namespace) -> int:
    pool, store = await open_store(Settings.from_env())
    try:
        if args.command == "create":
            scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
            key = generate()
            await store.create(key, args.name, scopes)
            print(f"key id {key.key_id} ({args.name}; scopes {', '.join(sorted(set(scopes)))})")
            print(key.token)
            print("Store it now: it cannot be shown again.")
        elif args.command == "list":
            for row in await store.list():
                state = f"revoked {row['revoked_at']:%Y-%m-%d %H:%M}" if row["revoked_at"] else "active"
                print(f"{row['key_id']}  {row['name']:<20} {','.join(row['scopes']):<20} {state}")
        elif not await store.revoke(args.key_id):
            print(f"no active key {args.key_id}")
            return 1
        else:
            print(f"revoked {args.key_id}")
        return 0
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m common.apikeys", description="Manage API keys.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a key and print it once")
    create.add_argument("--scopes", required=True, help=f"comma-separated, of: {', '.join(SCOPES)}")
    create.add_argument("--name", required=True, help="who or what uses the key")
    commands.add_parser("list", help="list keys (never their secrets)")
    revoke = commands.add_parser("revoke", help="revoke a key (effective within SV_AUTH_CACHE_SECONDS)")
    revoke.add_argument("key_id")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(run(args))
    except ValueError as exc:
        parser.error(str(exc))
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
