"""Retention: raw events older than the cut-off go, in batches; newer ones and rollups stay."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from analytics_svc.data_retention import apply_retention, parse_age
from analytics_svc.schema import MIGRATIONS
from common.migrations import apply_migrations
from common.settings import REPO_ROOT


def test_parse_age():
    assert parse_age("400d") == timedelta(days=400)
    assert parse_age("36h") == timedelta(hours=36)
    with pytest.raises(Exception, match="expected"):
        parse_age("400")


async def test_old_events_are_deleted_in_batches_and_recent_ones_kept(own_database):
    # A database of its own: the session's holds every earlier test's events, old ones too,
    # which made this a minute of 7-row batches and its counts inexact.
    db = await asyncpg.create_pool(own_database, min_size=1, max_size=2)
    try:
        await apply_migrations(db, "analytics", MIGRATIONS)
        old = datetime.now(UTC) - timedelta(days=500)
        recent = datetime.now(UTC) - timedelta(days=10)
        rows = [(f"ret-old-{i}", old) for i in range(25)] + [(f"ret-new-{i}", recent) for i in range(5)]
        await db.executemany(
            "INSERT INTO events (event_id, user_id, event_type, ts) VALUES ($1, 'kid-r', 'app_open', $2)",
            rows,
        )
        await db.execute("CREATE TABLE daily_retention_probe (day date, users int)")
        await db.execute("INSERT INTO daily_retention_probe VALUES ($1, 3)", old.date())

        deleted = await apply_retention(db, timedelta(days=400), batch=7)

        assert deleted["events"] == 25
        left = await db.fetch("SELECT event_id FROM events")
        assert sorted(r["event_id"] for r in left) == sorted(f"ret-new-{i}" for i in range(5))
        assert await db.fetchval("SELECT count(*) FROM daily_retention_probe WHERE day = $1", old.date()) == 1
    finally:
        await db.close()


def _retention(settings, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`python -m analytics_svc.data_retention ARGS` in a process of its own, with `env` (SV_...)."""
    done = subprocess.run(
        [sys.executable, "-m", "analytics_svc.data_retention", *args],
        cwd=REPO_ROOT,
        env={
            "SV_DATABASE_URL": settings.database_url,
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done


async def test_the_command_line_runs(settings, db):
    await apply_migrations(db, "analytics", MIGRATIONS)
    done = _retention(settings, "--events-older-than", "4000d", "--dry-run")
    assert "would delete" in done.stdout


@pytest.mark.clickhouse
def test_the_command_line_applies_the_policy_to_the_clickhouse_store(settings, tmp_path):
    """With SV_ANALYTICS_STORE=clickhouse the job also deletes there (an engine of its own here)."""
    done = _retention(
        settings, "--events-older-than", "400d", SV_ANALYTICS_STORE="clickhouse", SV_DATA_DIR=str(tmp_path)
    )
    assert "deleted 0 rows from clickhouse events" in done.stdout
    assert "deleted 0 rows from clickhouse funnel_streams" in done.stdout
