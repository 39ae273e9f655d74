"""What every artifact store offers: immutable blobs under a key, and where they are.

    store = FolderStore(path) | S3Store(bucket, prefix) | PostgresStore(pool)
    stored = await put(store, "reco/v20261124T0300-ab12.tar", data)   # sha256 and location
    data = await fetch(store, key, stored.sha256)                       # ArtifactCorrupt if it differs

A backend only moves bytes (write is atomic: a reader sees the whole object or nothing);
checksums live here, once, so every backend is verified the same way. The sha256 travels
with the reference to the artifact (the model registry's row), not with the object, so a
truncated or swapped object is caught whichever backend holds it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol


class ArtifactUnavailable(Exception):
    """The artifact could not be read: not there, or its store does not answer."""


class ArtifactCorrupt(Exception):
    """The bytes read do not have the sha256 recorded when the artifact was written."""


@dataclass(frozen=True)
class StoredArtifact:
    location: str  # the backend and key as one URI: what a registry records and logs show
    sha256: str
    size: int


class ArtifactStore(Protocol):
    def location(self, key: str) -> str:
        """The URI naming this key in this store (locations.py opens a store from it)."""
        ...

    async def write(self, key: str, data: bytes) -> None:
        """Store data under key, atomically; a key written twice holds the second write."""
        ...

    async def read(self, key: str) -> bytes:
        """The bytes under key, or ArtifactUnavailable."""
        ...

    async def aclose(self) -> None: ...


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def put(store: ArtifactStore, key: str, data: bytes) -> StoredArtifact:
    await store.write(key, data)
    return StoredArtifact(store.location(key), sha256_of(data), len(data))


async def fetch(store: ArtifactStore, key: str, sha256: str) -> bytes:
    data = await store.read(key)
    found = sha256_of(data)
    if found != sha256:
        raise ArtifactCorrupt(
            f"{store.location(key)}: sha256 {found[:12]}… of {len(data)} bytes, expected {sha256[:12]}…"
        )
    return data
