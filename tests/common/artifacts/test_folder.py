"""The folder backend: the laptop default, or a volume every process mounts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from common.artifacts import Locations, configured_store, fetch, put
from common.artifacts.folder import FolderStore
from tests.common.artifacts.contract import behaves_as_an_artifact_store


async def test_folder_store_keeps_the_contract(tmp_path):
    await behaves_as_an_artifact_store(FolderStore(tmp_path))


async def test_a_write_leaves_only_the_finished_file(tmp_path):
    store = FolderStore(tmp_path)
    await store.write("reco/v1.tar", b"x" * 10_000)
    assert [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")] == ["reco", "reco/v1.tar"]


async def test_keys_stay_inside_the_folder(tmp_path):
    store = FolderStore(tmp_path / "artifacts")
    for key in ("../outside", "/etc/passwd", ""):
        with pytest.raises(ValueError):
            await store.write(key, b"no")


async def test_a_file_location_is_read_back_from_any_process_that_sees_the_path(tmp_path, settings):
    stored = await put(FolderStore(tmp_path), "reco/v2.tar", b"model bytes")
    assert stored.location == (tmp_path / "reco" / "v2.tar").as_uri()
    locations = Locations(replace(settings, data_dir=tmp_path / "elsewhere"), pool=None)
    assert await locations.fetch(stored.location, stored.sha256) == b"model bytes"


async def test_without_a_database_url_the_default_is_the_data_folder(tmp_path, settings):
    store = configured_store(replace(settings, database_url=None, data_dir=tmp_path), pool=None)
    assert isinstance(store, FolderStore) and store.root == (tmp_path / "artifacts").resolve()
    stored = await put(store, "k", b"v")
    assert await fetch(store, "k", stored.sha256) == b"v"
    assert isinstance(configured_store(replace(settings, artifact_store=str(tmp_path)), None), FolderStore)
    assert configured_store(replace(settings, artifact_store=tmp_path.as_uri()), None).root == tmp_path
    with pytest.raises(ValueError, match="SV_ARTIFACT_STORE"):
        configured_store(replace(settings, artifact_store="ftp://models"), None)
