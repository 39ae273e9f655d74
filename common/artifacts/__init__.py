"""Shared storage for trained models, so that every replica reads what a training job wrote.
One small protocol (base.py), one module per backend (folder.py, s3.py, postgres.py).

    store = configured_store(settings, pool)            # where new artifacts go
    stored = await put(store, "reco/v1.tar", data)       # StoredArtifact(location, sha256, size)
    locations = Locations(settings, pool)
    data = await locations.fetch(stored.location, stored.sha256)   # from the store it names

SV_ARTIFACT_STORE (docs/configuration.md):
- unset: PostgreSQL when SV_DATABASE_URL is set (the one store every process of such a
  deployment already shares), else the folder <SV_DATA_DIR>/artifacts (where the embedded
  PostgreSQL keeps its data too);
- `s3://bucket/prefix`: S3, or an S3-compatible server at SV_ARTIFACT_S3_ENDPOINT;
- `postgresql`: the service's database;
- a path or `file:///path`: a folder (shared only if every process mounts it).

A reader opens the store that a location names, not its own setting: a registry row made
by a job configured differently still resolves, or fails visibly.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import asyncpg

from common.artifacts.base import (
    ArtifactCorrupt,
    ArtifactStore,
    ArtifactUnavailable,
    StoredArtifact,
    fetch,
    put,
    sha256_of,
)
from common.artifacts.folder import FolderStore
from common.artifacts.postgres import SCHEME as POSTGRES_SCHEME
from common.artifacts.postgres import PostgresStore
from common.settings import Settings


def configured_store(settings: Settings, pool: asyncpg.Pool) -> ArtifactStore:
    """The store new artifacts are written to."""
    setting = settings.artifact_store
    if not setting:
        if settings.database_url:
            return PostgresStore(pool)
        return FolderStore(Path(settings.data_dir) / "artifacts")
    if setting == POSTGRES_SCHEME:
        return PostgresStore(pool)
    if setting.startswith("s3://"):
        from common.artifacts.s3 import S3Store

        bucket, _, prefix = setting.removeprefix("s3://").partition("/")
        return S3Store(bucket, prefix, settings.artifact_s3_endpoint)
    if setting.startswith("file://"):
        return FolderStore(unquote(urlsplit(setting).path))
    if "://" in setting:
        raise ValueError(f"SV_ARTIFACT_STORE={setting!r}: expected s3://, file://, postgresql or a path")
    return FolderStore(setting)


class Locations:
    """Opens the store a location names (stores are kept: an S3 client is costly to make)."""

    def __init__(self, settings: Settings, pool: asyncpg.Pool) -> None:
        self.settings = settings
        self.pool = pool
        self._stores: dict[str, ArtifactStore] = {}

    def resolve(self, location: str) -> tuple[ArtifactStore, str]:
        if location.startswith("s3://"):
            from common.artifacts.s3 import S3Store

            bucket, _, key = location.removeprefix("s3://").partition("/")
            store = self._stores.setdefault(
                f"s3://{bucket}", S3Store(bucket, endpoint_url=self.settings.artifact_s3_endpoint)
            )
            return store, key
        if location.startswith(f"{POSTGRES_SCHEME}:"):
            store = self._stores.setdefault(POSTGRES_SCHEME, PostgresStore(self.pool))
            return store, location.removeprefix(f"{POSTGRES_SCHEME}:")
        if location.startswith("file://"):
            path = Path(unquote(urlsplit(location).path))
            return FolderStore(path.parent), path.name
        raise ArtifactUnavailable(f"{location!r} names no artifact store")

    async def fetch(self, location: str, sha256: str) -> bytes:
        store, key = self.resolve(location)
        return await fetch(store, key, sha256)

    async def aclose(self) -> None:
        for store in self._stores.values():
            await store.aclose()
        self._stores.clear()


__all__ = [
    "ArtifactCorrupt",
    "ArtifactStore",
    "ArtifactUnavailable",
    "Locations",
    "StoredArtifact",
    "configured_store",
    "fetch",
    "put",
    "sha256_of",
]
