"""The S3 backend against a real S3 HTTP API (moto's server mode in a subprocess)."""

from __future__ import annotations

import os
import time
from dataclasses import replace

import pytest

from common.artifacts import ArtifactUnavailable, Locations, configured_store, fetch, put
from common.artifacts.s3 import S3Store
from tests.common.artifacts.contract import behaves_as_an_artifact_store
from tests.conftest import free_port
from tests.s3_server import S3Server, restore, use_credentials

BUCKET = "storyverse-models"


@pytest.fixture(scope="module")
def s3():
    previous = use_credentials()
    try:
        with S3Server() as server:
            server.create_bucket(BUCKET)
            yield server
    finally:
        restore(previous)


async def test_s3_store_keeps_the_contract(s3):
    store = S3Store(BUCKET, "contract", endpoint_url=s3.endpoint)
    try:
        await behaves_as_an_artifact_store(store)
    finally:
        await store.aclose()


async def test_keys_live_under_the_prefix_and_the_location_names_bucket_and_key(s3, settings):
    store = configured_store(
        replace(settings, artifact_store=f"s3://{BUCKET}/prod/models", artifact_s3_endpoint=s3.endpoint), None
    )
    stored = await put(store, "reco/v1.tar", b"archive")
    assert stored.location == f"s3://{BUCKET}/prod/models/reco/v1.tar"
    listed = s3.client().list_objects_v2(Bucket=BUCKET, Prefix="prod/")["Contents"]
    assert [o["Key"] for o in listed] == ["prod/models/reco/v1.tar"]
    locations = Locations(replace(settings, artifact_s3_endpoint=s3.endpoint), None)
    assert await locations.fetch(stored.location, stored.sha256) == b"archive"
    await locations.aclose()
    await store.aclose()


async def test_a_large_model_goes_up_in_parts_and_comes_back_whole(s3):
    store = S3Store(BUCKET, endpoint_url=s3.endpoint)
    data = os.urandom(20 * 2**20)  # past boto3's 8 MiB multipart threshold
    stored = await put(store, "reco/large.tar", data)
    head = s3.client().head_object(Bucket=BUCKET, Key="reco/large.tar")
    assert head["ContentLength"] == len(data) and "-" in head["ETag"], "expected a multipart upload"
    assert await fetch(store, "reco/large.tar", stored.sha256) == data
    await store.aclose()


async def test_a_missing_bucket_or_an_unreachable_server_is_unavailable(s3):
    with pytest.raises(ArtifactUnavailable):
        await S3Store("no-such-bucket", endpoint_url=s3.endpoint).read("reco/v1.tar")
    nobody = S3Store(BUCKET, endpoint_url=f"http://127.0.0.1:{free_port()}")
    began = time.monotonic()
    with pytest.raises(ArtifactUnavailable):
        await nobody.read("reco/v1.tar")
    assert time.monotonic() - began < 10, "a refused connection is retried briefly, then reported"
