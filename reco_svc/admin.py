"""Admin operations on the catalog and the model registry (the RPCs' logic; server.py translates)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg

from common.bus import BusMessage, EventBus
from common.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from reco_svc import store
from reco_svc.age_rules import MAX_AGE, MIN_AGE, group_bounds
from reco_svc.catalog import CatalogEntry, check_entry
from reco_svc.catalog_state import CatalogState
from reco_svc.live import VISIBILITY_TOPIC
from reco_svc.model_watch import ModelHolder

MAX_PAGE = 1000
DEFAULT_PAGE = 100


class CatalogAdmin:
    def __init__(self, pool: asyncpg.Pool, catalog: CatalogState, bus: EventBus | None = None) -> None:
        self.pool = pool
        self.catalog = catalog
        self.bus = bus

    async def _tell_replicas(self, entry: CatalogEntry) -> None:
        """The other replicas apply a hide/unhide at once (catalog.visibility), not at their next poll."""
        if self.bus is None:
            return
        change = {
            "item_type": entry.kind,
            "item_id": entry.id,
            "hidden": entry.hidden,
            "reason": entry.hidden_reason,
            "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        await self.bus.publish(VISIBILITY_TOPIC, [BusMessage(entry.id.encode(), json.dumps(change).encode())])

    async def upsert(self, entry: CatalogEntry) -> tuple[CatalogEntry, bool]:
        entry = _with_defaults(entry)
        problems = check_entry(entry, self.catalog.snapshot)
        if problems:
            raise InvalidArgument.of([FieldViolation(f, d) for f, d in problems])
        created = await store.upsert_item(self.pool, entry)
        saved = await self.get(entry.kind, entry.id)
        self.catalog.put(saved)
        return saved, created

    async def get(self, kind: str, item_id: str) -> CatalogEntry:
        entry = await store.get_item(self.pool, kind, item_id)
        if entry is None:
            raise NotFound(f"no {kind} {item_id!r} in the catalog")
        return entry

    async def list(
        self, kind: str, age_group: str, include_hidden: bool, page_size: int, page_token: str
    ) -> tuple[list[CatalogEntry], str]:
        size = min(page_size or DEFAULT_PAGE, MAX_PAGE)
        age = group_bounds(age_group) if age_group else None
        items = await store.list_items(self.pool, kind, page_token, size + 1, include_hidden, age)
        next_token = items[size - 1].id if len(items) > size else ""
        return items[:size], next_token

    async def hide(self, kind: str, item_id: str, reason: str) -> CatalogEntry:
        await self.get(kind, item_id)
        await store.hide(self.pool, kind, item_id, reason or "admin")
        entry = await self.get(kind, item_id)
        self.catalog.set_hidden(kind, item_id, True, entry.hidden_reason)
        await self._tell_replicas(entry)
        return entry

    async def unhide(self, kind: str, item_id: str) -> CatalogEntry:
        await self.get(kind, item_id)
        await store.unhide(self.pool, kind, item_id)
        entry = await self.get(kind, item_id)
        self.catalog.set_hidden(kind, item_id, entry.hidden, entry.hidden_reason)
        await self._tell_replicas(entry)
        return entry


def _with_defaults(entry: CatalogEntry) -> CatalogEntry:
    from dataclasses import replace

    return replace(
        entry,
        min_age=entry.min_age or MIN_AGE,
        max_age=entry.max_age or MAX_AGE,
        source="admin",
    )


class RegistryAdmin:
    def __init__(self, pool: asyncpg.Pool, models: ModelHolder) -> None:
        self.pool = pool
        self.models = models

    async def list(self, limit: int) -> list[dict]:
        return [_version(r) for r in await store.list_versions(self.pool, min(limit or 20, 200))]

    async def activate(self, version: str) -> dict:
        if not await store.activate(self.pool, version):
            raise NotFound(f"no model version {version!r}")
        await self.models.check()
        return _version(await store.get_version(self.pool, version))

    async def rollback(self) -> tuple[dict, str]:
        result = await store.rollback(self.pool)
        if result is None:
            raise FailedPrecondition("no earlier active version to roll back to")
        await self.models.check()
        return _version(await store.get_version(self.pool, result[0])), result[1]

    @property
    def serving_version(self) -> str:
        return self.models.current.version if self.models.current else ""


def _version(row: asyncpg.Record) -> dict:
    metrics = row["metrics"]
    if isinstance(metrics, str):
        metrics = json.loads(metrics)
    return {
        "version": row["version"],
        "created_at": row["created_at"].isoformat(),
        "active": row["active"],
        "metrics": {k: float(v) for k, v in (metrics or {}).items() if isinstance(v, int | float)},
        "description": row["description"],
    }
