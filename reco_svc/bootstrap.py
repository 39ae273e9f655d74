"""Before any training: the bootstrap model follows the age groups' live popularity and trending.

A system that has never trained still answers a new user from what children of the same age
pick now, not in catalog order: while the bootstrap model serves, it is rebuilt with the same
popularity and trending rows as a trained model (training.build_artifact, nothing
collaborative) from the interaction events stored so far (the engine's own reco_interactions,
kept from the bus). The events are read incrementally (only those stored since the last read,
by `stored_at`; an event committed out of that order by a concurrent transaction may be
missed, harmless for a prior), kept in memory, and the model is
rebuilt at start and then whenever the live follow has seen new interactions, at most every
`every` seconds. Once a trained version serves, this stops for good and the memory goes
(a trained model's rows come from its training, kept fresh by schedule.py).

Meant for the window before the first training: past MAX_EVENTS events it stops growing
and logs that a training is due.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import asyncpg

from common.periodic import DONE, Periodic
from reco_svc import store
from reco_svc.catalog_state import CatalogState
from reco_svc.interactions import HISTORY_DAYS, EventFacts, Interaction, interactions_of
from reco_svc.live import LiveFollower
from reco_svc.model_watch import BOOTSTRAP, ModelHolder, bootstrap_model

log = logging.getLogger(__name__)
MAX_EVENTS = 1_000_000
# Rebuilt at most every this many SV_RECO_MODEL_POLL_SECONDS.
BOOTSTRAP_POLLS = 6
READ_BATCH = 50_000


class BootstrapRefresher:
    def __init__(
        self,
        pool: asyncpg.Pool,
        catalog: CatalogState,
        models: ModelHolder,
        live: LiveFollower,
        every: float,
    ) -> None:
        self.pool = pool
        self.catalog = catalog
        self.models = models
        self.live = live
        self.every = every
        self.interactions: list[Interaction] = []
        self.age_groups: dict[str, str] = {}
        self.devices: dict[str, str] = {}
        self.events_read = 0
        self.watermark: datetime | None = None
        self.latest: datetime | None = None
        self._seen: int | None = None  # the live follow's interactions_seen at the last rebuild
        # No jitter: replicas started together rebuild together, so they answer alike sooner.
        self._task = Periodic("bootstrap refresh", self._refresh_if_new, every, first_after=0, jitter=0)

    def serving_bootstrap(self) -> bool:
        return self.models.current is not None and self.models.current.version == BOOTSTRAP

    async def _read_new(self) -> None:
        since = datetime.now(UTC) - timedelta(days=HISTORY_DAYS)
        while self.events_read < MAX_EVENTS:
            rows = await store.events_stored_after(self.pool, self.watermark, since, READ_BATCH)
            for row in rows:
                facts = EventFacts.from_row(row)
                self.interactions += interactions_of(facts)
                if facts.age_group:
                    self.age_groups[facts.user_id] = facts.age_group
                if facts.device_type:
                    self.devices[facts.user_id] = facts.device_type
                self.latest = facts.ts if self.latest is None else max(self.latest, facts.ts)
            self.events_read += len(rows)
            if rows:
                self.watermark = rows[-1]["stored_at"]
            if len(rows) < READ_BATCH:
                return
        log.warning("bootstrap model: %d events read and no model trained yet; train one", MAX_EVENTS)

    async def refresh(self) -> bool:
        """Rebuild the bootstrap from the stored interactions; False when a trained model serves."""
        if not self.serving_bootstrap():
            return False
        await self._read_new()
        return await self._rebuild()

    async def _rebuild(self) -> bool:
        started_from = self.models.current
        now = min(self.latest, datetime.now(UTC)) if self.latest else datetime.now(UTC)
        # No read runs while the thread builds: refresh() is the only writer and awaits it.
        model = await asyncio.to_thread(
            bootstrap_model, self.catalog.snapshot, self.interactions, self.age_groups, self.devices, now
        )
        if self.models.current is not started_from:  # a trained version came in meanwhile
            return False
        self.models.current = model
        return True

    def start(self) -> None:
        self._task.start()

    async def _refresh_if_new(self) -> object:
        if not self.serving_bootstrap():
            self.interactions = []  # a trained model serves: nothing more to do
            return DONE
        # New stored events, not only this replica's live follow: with a group shared by the
        # replicas each sees part of the stream, yet all must rebuild from the same rows.
        read_before = self.events_read
        await self._read_new()
        if self.events_read != read_before or self.live.interactions_seen != self._seen:
            self._seen = self.live.interactions_seen
            await self._rebuild()  # a failure is logged; the current bootstrap keeps serving
        return None

    async def aclose(self) -> None:
        await self._task.stop()
