"""Which model serves: the registry's active version, switched without restart.

The watcher LISTENs on the PostgreSQL channel `reco_models` (store.NOTIFY_CHANNEL: train,
activate and rollback notify it) and also polls the active row every
SV_RECO_MODEL_POLL_SECONDS in case a notification was missed. A new version is fetched from
the artifact store its row names (common/artifacts: sha256 checked), loaded in a worker
thread and swapped in atomically; requests in flight finish on the model they started with.

If it cannot be fetched or loaded the current one keeps serving, the gauge
storyverse_reco_model_outdated says 1 and storyverse_reco_model_fetch_failures_total counts
the attempt by reason; the version is tried again with a growing pause (a store that was
briefly unreachable heals by itself), up to RETRY_MAX_SECONDS apart.

Before any training the service serves a bootstrap model built in memory, version
"bootstrap": attribute similarities from the catalog, and the age groups' popularity and
trending from the interactions stored so far, rebuilt as they come (bootstrap.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from common import metrics
from common.artifacts import ArtifactCorrupt, ArtifactUnavailable, Locations
from common.notifications import Notifications
from common.periodic import Periodic
from reco_svc import store
from reco_svc.artifact import LoadedModel, from_bytes, in_memory, load_folder
from reco_svc.catalog import CatalogSnapshot
from reco_svc.interactions import Interaction
from reco_svc.model_assembly import build_artifact

log = logging.getLogger(__name__)
BOOTSTRAP = "bootstrap"
RETRY_MAX_SECONDS = 300.0
# Registry metrics that are offline evaluation results (reco_svc.offline.learned_parts), not counts.
ACCURACY_PREFIXES = ("collaborative_", "popularity_")


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
    )
    return in_memory(artifact)


class VersionMismatch(ValueError):
    """A registry row whose archive holds another version (a hand-made registration)."""


class ModelHolder:
    def __init__(self, pool: asyncpg.Pool, locations: Locations, poll_seconds: float = 5.0) -> None:
        self.pool = pool
        self.locations = locations
        self.poll_seconds = poll_seconds
        self.current: LoadedModel | None = None
        # On every notification, and every poll_seconds in case one was missed.
        self._watch = Periodic("model check", self.check, poll_seconds)
        # The active version that would not load: (version, failures so far, next try at).
        self._failed: tuple[str, int, float] | None = None

    def listen(self, notifications: Notifications) -> None:
        """Check at once on a registry notification (before notifications.start())."""
        notifications.subscribe(store.NOTIFY_CHANNEL, lambda _payload: self._watch.wake(), self._watch.wake)

    async def start(self, snapshot: CatalogSnapshot) -> None:
        await self.check()
        if self.current is None:
            self.current = await asyncio.to_thread(bootstrap_model, snapshot)
        self._watch.start()

    async def check(self) -> bool:
        """Load the active version if it is not the one serving; True when it switched."""
        row = await store.active_version(self.pool)
        if row is None or (self.current is not None and self.current.version == row["version"]):
            metrics.MODEL_OUTDATED.set(0)
            self._failed = None
            return False
        version = row["version"]
        if self._failed and self._failed[0] == version and time.monotonic() < self._failed[2]:
            return False
        try:
            model = await self.load(row)
        except Exception as exc:  # noqa: BLE001 - a missing or broken artifact must not stop serving
            self._failing(version, exc)
            return False
        previous = self.current.version if self.current else None
        self.current, self._failed = model, None
        metrics.MODEL_OUTDATED.set(0)
        _record_accuracy(version, row["metrics"])
        log.info("model switched", extra={"fields": {"version": model.version, "previous": previous}})
        return True

    async def load(self, row: asyncpg.Record) -> LoadedModel:
        """The version of this registry row, fetched and loaded (the experiments load theirs too)."""
        if row["sha256"] is None:  # registered before the artifact store: a local folder
            model = await asyncio.to_thread(load_folder, Path(row["path"]))
        else:
            data = await self.locations.fetch(row["path"], row["sha256"])
            model = await asyncio.to_thread(from_bytes, data)
        if model.version != row["version"]:
            # Served, it would label every list with another version than the registry's (and
            # never equal the active row: reloaded on every check). Refused like a broken file.
            raise VersionMismatch(f"the archive of {row['version']!r} holds version {model.version!r}")
        return model

    def _failing(self, version: str, exc: Exception) -> None:
        failures = self._failed[1] + 1 if self._failed and self._failed[0] == version else 1
        pause = min(self.poll_seconds * 2 ** (failures - 1), RETRY_MAX_SECONDS)
        self._failed = (version, failures, time.monotonic() + pause)
        reason = (
            "unavailable"
            if isinstance(exc, ArtifactUnavailable | OSError)
            else "checksum"
            if isinstance(exc, ArtifactCorrupt)
            else "version"
            if isinstance(exc, VersionMismatch)
            else "unreadable"
        )
        metrics.MODEL_FETCH_FAILURES.add(1, {"reason": reason})
        metrics.MODEL_OUTDATED.set(1)
        serving = self.current.version if self.current else BOOTSTRAP
        log.error(
            "could not load model, the previous one keeps serving",
            extra={
                "fields": {
                    "version": version,
                    "serving": serving,
                    "reason": reason,
                    "error": repr(exc),
                    "retry_in_s": pause,
                }
            },
        )

    async def aclose(self) -> None:
        await self._watch.stop()  # a failed check is logged; the current model keeps serving


def _record_accuracy(version: str, found: object) -> None:
    """The offline evaluation of the version now serving, as storyverse_reco_model_accuracy."""
    values = json.loads(found) if isinstance(found, str) else found or {}
    for name, value in values.items():
        if name.startswith(ACCURACY_PREFIXES) and isinstance(value, int | float):
            metrics.set_model_accuracy(version, name, float(value))
