"""The PostgreSQL backend: small models in the database every process already shares."""

from __future__ import annotations

import asyncpg
import pytest

from common.artifacts import ArtifactUnavailable, Locations, configured_store, put
from common.artifacts import postgres as backend
from common.artifacts.postgres import PostgresStore
from tests.common.artifacts.contract import behaves_as_an_artifact_store


async def test_postgres_store_keeps_the_contract(db):
    await behaves_as_an_artifact_store(PostgresStore(db))


async def test_it_is_the_default_beside_an_external_database_and_resolves_by_location(db, settings):
    assert settings.database_url and not settings.artifact_store
    store = configured_store(settings, db)
    assert isinstance(store, PostgresStore)
    stored = await put(store, "reco/default.tar", b"\x00\x01" * 50_000)
    assert stored.location == "postgresql:reco/default.tar"
    row = await db.fetchrow(
        "SELECT size, length(data) AS n FROM artifact_objects WHERE key = $1", "reco/default.tar"
    )
    assert (row["size"], row["n"]) == (100_000, 100_000)
    assert await Locations(settings, db).fetch(stored.location, stored.sha256) == b"\x00\x01" * 50_000


async def test_a_model_too_large_for_the_database_is_refused_before_writing(db, monkeypatch):
    monkeypatch.setattr(backend, "MAX_BYTES", 1024)
    with pytest.raises(ValueError, match="use S3"):
        await PostgresStore(db).write("reco/huge.tar", b"x" * 1025)
    assert await db.fetchval("SELECT count(*) FROM artifact_objects WHERE key = 'reco/huge.tar'") == 0


async def test_an_unreachable_database_is_unavailable_not_a_crash(settings):
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=1)
    store = PostgresStore(pool)
    await store.write("reco/gone.tar", b"v")
    await pool.close()
    with pytest.raises(ArtifactUnavailable):
        await store.read("reco/gone.tar")
