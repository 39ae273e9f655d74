"""The running system trains on a schedule (reco_svc/schedule.py): due when the newest version is
older than the interval, one trainer at a time, and the engine serves what it trained."""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from datetime import UTC, datetime, timedelta

from common.settings import REPO_ROOT
from reco_svc import store
from reco_svc.schedule import TRAINING_LOCK, TrainingSchedule
from tests.conftest import service_env
from tests.reco.serving.helpers import eventually, record, served, story_event


async def _some_interactions(analytics_stub) -> None:
    user = f"user-{uuid.uuid4().hex[:8]}"
    await record(analytics_stub, [story_event(user, ["pirate-isles"], ["parrot-polly"], "adventure")])


async def test_a_due_training_is_served_and_a_fresh_model_waits(reco_stub, analytics_stub, db, settings):
    await _some_interactions(analytics_stub)
    version = await TrainingSchedule(db, settings, timedelta(0)).run_once()
    assert version is not None
    assert await eventually(served(reco_stub, version), timeout=10), "the scheduled version is not served"
    daily = TrainingSchedule(db, settings, timedelta(hours=24))
    assert not await daily.due()  # just trained
    assert await daily.run_once() is None
    assert await daily.due(now=datetime.now(UTC) + timedelta(hours=25))


async def test_one_trainer_at_a_time(analytics_stub, db, settings):
    await _some_interactions(analytics_stub)
    schedule = TrainingSchedule(db, settings, timedelta(0))
    async with db.acquire() as other:  # e.g. the CronJob's run, sharing the database
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", TRAINING_LOCK)
        try:
            assert await schedule.run_once() is None
        finally:
            await other.execute("SELECT pg_advisory_unlock($1)", TRAINING_LOCK)
    before = await store.newest_version_time(db)
    results = await asyncio.gather(schedule.run_once(), schedule.run_once())
    assert sum(r is not None for r in results) == 1, results
    assert await store.newest_version_time(db) > before


async def test_python_m_reco_svc_schedule_trains_when_due_and_stops_on_sigterm(analytics_stub, db, settings):
    await _some_interactions(analytics_stub)
    before = await store.newest_version_time(db)
    env = service_env(settings, data_dir=settings.data_dir, reco_train_every_hours="0.000001")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "reco_svc.schedule", cwd=REPO_ROOT, env=env, stdout=asyncio.subprocess.PIPE
    )
    try:
        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        assert line.decode().startswith("recommendation training every")

        async def trained():
            newest = await store.newest_version_time(db)
            return newest is not None and (before is None or newest > before)

        assert await eventually(trained, timeout=60), "the schedule did not train"
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=60) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
