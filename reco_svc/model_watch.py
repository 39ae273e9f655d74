"""Which model serves: the registry's active version, switched without restart.

The watcher LISTENs on the PostgreSQL channel `reco_models` (store.NOTIFY_CHANNEL: train,
activate and rollback notify it) and also polls the active row every
SV_RECO_MODEL_POLL_SECONDS in case a notification was missed. A new version is loaded in a
worker thread and swapped in atomically; requests in flight finish on the model they
started with. If it cannot be loaded the current one keeps serving.

Before any training the service serves a bootstrap model built in memory, version
"bootstrap": attribute similarities from the catalog, and the age groups' popularity and
trending from the interactions stored so far, rebuilt as they come (bootstrap.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from reco_svc import store
from reco_svc.artifact import LoadedModel, in_memory, load
from reco_svc.catalog import CatalogSnapshot
from reco_svc.interactions import Interaction
from reco_svc.training import build_artifact

log = logging.getLogger(__name__)
BOOTSTRAP = "bootstrap"


def bootstrap_model(
    snapshot: CatalogSnapshot,
    interactions: Sequence[Interaction] = (),
    age_groups: dict[str, str] | None = None,
    devices: dict[str, str] | None = None,
    now: datetime | None = None,
) -> LoadedModel:
    """The catalog's attribute model with the context rows (popularity and trending per age
    group, popularity per device) of these interactions; nothing collaborative."""
    artifact = build_artifact(
        list(snapshot.entries.values()),
        interactions,
        age_groups or {},
        devices or {},
        now or datetime.now(UTC),
        BOOTSTRAP,
        with_metrics=False,
        collaborative=False,
    )
    return in_memory(artifact)


class ModelHolder:
    def __init__(self, pool: asyncpg.Pool, models_dir: Path, poll_seconds: float = 5.0) -> None:
        self.pool = pool
        self.models_dir = Path(models_dir)
        self.poll_seconds = poll_seconds
        self.current: LoadedModel | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._listener: asyncpg.Connection | None = None
        self._failed: str | None = None  # the version that would not load: not retried until it changes

    async def start(self, snapshot: CatalogSnapshot) -> None:
        await self.check()
        if self.current is None:
            self.current = await asyncio.to_thread(bootstrap_model, snapshot)
        self._listener = await self.pool.acquire()
        await self._listener.add_listener(store.NOTIFY_CHANNEL, self._notified)
        self._task = asyncio.create_task(self._watch())

    def _notified(self, *_: object) -> None:
        self._wake.set()

    async def _watch(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            self._wake.clear()
            try:
                await self.check()
            except Exception:  # noqa: BLE001 - keep serving the current model
                log.exception("model check failed")

    def _folder(self, version: str, path: str) -> Path:
        folder = Path(path)
        return folder if folder.is_dir() else self.models_dir / version

    async def check(self) -> bool:
        """Load the active version if it is not the one serving; True when it switched."""
        row = await store.active_version(self.pool)
        if row is None or (self.current is not None and self.current.version == row["version"]):
            return False
        if row["version"] == self._failed:
            return False
        try:
            model = await asyncio.to_thread(load, self._folder(row["version"], row["path"]))
        except Exception:  # noqa: BLE001 - a broken or missing file must not stop serving
            log.exception("could not load model", extra={"fields": {"version": row["version"]}})
            self._failed = row["version"]
            return False
        previous = self.current.version if self.current else None
        self.current = model
        log.info("model switched", extra={"fields": {"version": model.version, "previous": previous}})
        return True

    async def aclose(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.remove_listener(store.NOTIFY_CHANNEL, self._notified)
            await self.pool.release(self._listener)
            self._listener = None
