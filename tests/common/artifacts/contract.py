"""What every artifact store must do, run against each backend by its own test module."""

from __future__ import annotations

import os
import uuid

import pytest

from common.artifacts import ArtifactCorrupt, ArtifactStore, ArtifactUnavailable, fetch, put, sha256_of


def a_key() -> str:
    return f"test/{uuid.uuid4().hex}.bin"


async def round_trips(store: ArtifactStore, size: int = 1_000) -> None:
    data = os.urandom(size)
    key = a_key()
    stored = await put(store, key, data)
    assert (stored.sha256, stored.size) == (sha256_of(data), size)
    assert stored.location == store.location(key)
    assert await fetch(store, key, stored.sha256) == data


async def a_second_write_replaces_the_first(store: ArtifactStore) -> None:
    key = a_key()
    await put(store, key, b"first")
    second = await put(store, key, b"second version")
    assert await fetch(store, key, second.sha256) == b"second version"


async def missing_is_unavailable(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactUnavailable):
        await store.read(a_key())


async def other_bytes_are_corrupt(store: ArtifactStore) -> None:
    key = a_key()
    await put(store, key, b"what the registry was told about")
    await store.write(key, b"what is there now")
    with pytest.raises(ArtifactCorrupt):
        await fetch(store, key, sha256_of(b"what the registry was told about"))


async def behaves_as_an_artifact_store(store: ArtifactStore) -> None:
    await round_trips(store)
    await round_trips(store, size=0)
    await a_second_write_replaces_the_first(store)
    await missing_is_unavailable(store)
    await other_bytes_are_corrupt(store)
