"""python -m reco_svc.schedule: train the recommendation model on a schedule (the local system).

    python -m reco_svc.schedule              # SV_RECO_TRAIN_EVERY_HOURS (default 24)

The job is the Kubernetes CronJob's (k8s/base/cronjobs.yaml, `python -m reco_svc.train`):
the same `train.train()`, which registers and activates a version that every engine loads
within a second. `./storyverse run` starts this process beside the services (system/launcher.py);
in Kubernetes the CronJob does it instead.

A training is due when the newest registered version is older than the interval, or when
there is none yet and there are interactions to learn from. Due or not is checked every
CHECK_SECONDS, so a version trained meanwhile by hand or by the demo pushes the next one back.
A PostgreSQL advisory lock keeps two trainers (two schedulers, a scheduler and the CronJob
sharing a database) from training at once: whoever does not get it skips that turn.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, datetime, timedelta

import asyncpg

from common.database import create_pool, database_url
from common.logs import configure_logging
from common.periodic import Periodic
from common.settings import Settings
from reco_svc import store
from reco_svc.offline.training_job import train

log = logging.getLogger(__name__)
CHECK_SECONDS = 60.0
# pg_try_advisory_lock key of "a training is running" (any 64-bit number no other lock uses).
TRAINING_LOCK = 0x7265636F_74726E  # "reco trn"


class TrainingSchedule:
    def __init__(self, pool: asyncpg.Pool, settings: Settings, every: timedelta) -> None:
        self.pool = pool
        self.settings = settings
        self.every = every

    async def due(self, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        newest = await store.newest_version_time(self.pool)
        if newest is None:
            return await store.has_interactions(self.pool)
        return newest + self.every <= now

    async def run_once(self) -> str | None:
        """Train when due and no other trainer is at it; the new version, or None."""
        if not await self.due():
            return None
        async with self.pool.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", TRAINING_LOCK):
                log.info("another training is running; skipped")
                return None
            try:
                if not await self.due():  # someone finished one while we waited for the lock
                    return None
                artifact = await train(self.pool, self.settings)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", TRAINING_LOCK)
        log.info("model trained on schedule", extra={"fields": {"version": artifact.version}})
        return artifact.version

    async def run(self, stop: asyncio.Event, check_seconds: float = CHECK_SECONDS) -> None:
        """Check now and every check_seconds until `stop` is set (a training in progress is
        cancelled then); a failed training is logged and retried at a later check."""
        checks = Periodic("scheduled training", self.run_once, check_seconds, first_after=0)
        checks.start()
        try:
            await stop.wait()
        finally:
            await checks.stop()


async def _main() -> None:
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    pool = await create_pool(settings, database_url(settings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    every = timedelta(hours=settings.reco_train_every_hours)
    print(f"recommendation training every {settings.reco_train_every_hours:g} h", flush=True)
    try:
        await TrainingSchedule(pool, settings, every).run(stop)
    finally:
        await pool.close()


if __name__ == "__main__":
    asyncio.run(_main())
