"""Before any training: the bootstrap model follows the age groups' live popularity and trending.

A system that has never trained still answers a new user from what children of the same age
pick now, not in catalog order: while the bootstrap model serves, it is rebuilt from the
interactions stored in PostgreSQL (the same read as training, train.read_training_data)
with the same popularity and trending rows as a trained model (training.build_artifact),
but nothing collaborative. It is rebuilt at start and then whenever the live follow has
seen new interactions, at most every `every` seconds. Once a trained version serves, this
stops for good (a trained model's rows come from its training, and the schedule keeps them
fresh: schedule.py).

The read is a training's read, so it is meant for the window before the first training
(the demo trains right after loading; `./storyverse run` when the schedule finds data).
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from reco_svc.catalog_state import CatalogState
from reco_svc.live import LiveFollower
from reco_svc.model_watch import BOOTSTRAP, ModelHolder, bootstrap_model
from reco_svc.train import read_training_data

log = logging.getLogger(__name__)


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

    def serving_bootstrap(self) -> bool:
        return self.models.current is not None and self.models.current.version == BOOTSTRAP

    async def refresh(self) -> bool:
        """Rebuild the bootstrap from the stored interactions; False when a trained model serves."""
        started_from = self.models.current
        if not self.serving_bootstrap():
            return False
        _, interactions, age_groups, devices, now = await read_training_data(self.pool)
        model = await asyncio.to_thread(
            bootstrap_model, self.catalog.snapshot, interactions, age_groups, devices, now
        )
        if self.models.current is not started_from:  # a trained version came in meanwhile
            return False
        self.models.current = model
        return True

    async def run(self) -> None:
        seen = None
        while self.serving_bootstrap():
            if self.live.interactions_seen != seen:
                seen = self.live.interactions_seen
                try:
                    await self.refresh()
                except Exception:  # noqa: BLE001 - keep serving the current bootstrap
                    log.exception("bootstrap refresh failed")
            await asyncio.sleep(self.every)
