"""The scheduled training of predicted retention, inside the analytics service.

    job = ChurnJob(pool, events, tombstones, every=timedelta(hours=24))   # events: the EventStore
    job.start()                 # checks every CHECK_SECONDS (common/periodic.py)
    await job.run_once()        # trains now when due (force=True: regardless); the model id
    await job.stop()

A run reads the last HISTORY_DAYS days of events up to the start of today (UTC) as daily
activity from the service's event store (PostgreSQL or ClickHouse, eventstore/), trains both
horizons (scoring.py; in a thread, so the service keeps answering), scores the children active
in the 28 days before today, and replaces the predictions in one transaction. A run is due when
the newest model is older than `every`; a PostgreSQL advisory lock keeps two replicas (worker
processes, pods) from training at once: the one that does not get it skips its turn. A child
erased meanwhile (a tombstone later than their last event) is left out of the predictions; the
erasure job's verifying pass removes any row written after its first pass.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import asyncpg

from analytics_svc.churn import scoring, store
from analytics_svc.eventstore.base import EventStore
from common.periodic import Periodic
from common.privacy.tombstones import Tombstones

log = logging.getLogger(__name__)
CHECK_SECONDS = 300.0
# pg_try_advisory_lock key of "a retention training is running".
TRAINING_LOCK = 0x616E_6368_7572_6E  # "anchurn"


class ChurnJob:
    def __init__(
        self,
        pool: asyncpg.Pool,
        events: EventStore,
        tombstones: Tombstones | None,
        every: timedelta,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self.pool = pool
        self.events = events  # where raw events are kept: PostgreSQL or ClickHouse
        self.tombstones = tombstones
        self.every = every
        self.periodic = Periodic("retention training", self.run_once, check_seconds)

    def start(self) -> None:
        self.periodic.start()

    async def stop(self) -> None:
        await self.periodic.stop()

    async def due(self, now: datetime) -> bool:
        newest = await store.last_trained(self.pool)
        return newest is None or newest + self.every <= now

    async def run_once(self, force: bool = False, today: datetime | None = None) -> int | None:
        """Train and score when due (or `force`); the new model's id, None when skipped or when
        the history is too short to learn from. `today`: the day to predict from (default: now)."""
        now = datetime.now(UTC)
        if not force and not await self.due(now):
            return None
        async with self.pool.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", TRAINING_LOCK):
                log.info("another retention training is running; skipped")
                return None
            try:
                if not force and not await self.due(now):
                    return None
                return await self._train((today or now).astimezone(UTC))
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", TRAINING_LOCK)

    async def _train(self, now: datetime) -> int | None:
        end = now.date()
        start = end - timedelta(days=scoring.HISTORY_DAYS)
        lo = datetime(start.year, start.month, start.day, tzinfo=UTC)
        hi = datetime(end.year, end.month, end.day, tzinfo=UTC)
        rows = await self.events.daily_activity(lo, hi)
        activity, last_event = await asyncio.to_thread(
            scoring.activity_from_rows, rows, start, scoring.HISTORY_DAYS
        )
        try:
            scores = await asyncio.to_thread(scoring.score, activity)
        except ValueError as exc:
            log.info(
                "retention model not trained: %s", exc, extra={"fields": {"children": len(activity.user_ids)}}
            )
            return None
        first = await self.events.first_seen(scores.users)
        weeks = scoring.cohort_weeks(activity, scores.index, first)
        predictions = []
        for k, u in enumerate(scores.index):
            user_id = activity.user_ids[u]
            if self.tombstones is not None and self.tombstones.covers(user_id, last_event[u]):
                continue
            predictions.append(
                store.PredictionRow(
                    user_id,
                    activity.age_group[u],
                    activity.platform[u],
                    activity.device_type[u],
                    weeks[k],
                    float(scores.p_return[7][k]),
                    float(scores.p_return[28][k]),
                    [float(v) for v in scores.factors[k]],
                )
            )
        model_id = await store.save(self.pool, end, scores.model.to_dict(), scores.model.rows, predictions)
        log.info(
            "retention model trained",
            extra={"fields": {"model_id": model_id, "children": len(predictions), "rows": scores.model.rows}},
        )
        return model_id
