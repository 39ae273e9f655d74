"""A model trained in one process reaches an engine in another that shares none of its disk.

The Kubernetes shape on one machine: `python -m reco_svc.train` with one SV_DATA_DIR (the
training pod), that folder deleted (the pod is gone), then `python -m reco_svc` with another
(an engine pod), both on one database. The engine must serve the trained version, read
from the artifact store the registry row names: PostgreSQL by default beside an external
database, S3 (moto's S3 server), or a folder both mount.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import replace

import asyncpg
import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families
from storyverse.recommendation.v1 import recommendation_service_pb2 as pb
from storyverse.recommendation.v1 import recommendation_service_pb2_grpc as pb_grpc

from common.settings import REPO_ROOT
from tests.conftest import free_port, fresh_database, service_env, spawn, stop, wait_serving
from tests.s3_server import S3Server


def run(module: str, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def served_version(port: int) -> str:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = pb_grpc.RecommendationServiceStub(channel).Recommend(
            pb.RecommendRequest(
                user_id=f"user-{uuid.uuid4().hex[:8]}",
                context=pb.RecommendationContext(age_group="6-8"),
                recommendation_types=["universe"],
            ),
            timeout=10,
        )
    return reply.lists[0].model_version


def samples(metrics_port: int) -> dict[tuple[str, tuple], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(metrics_port: int, name: str, **labels: str) -> float | None:
    wanted = tuple(sorted(labels.items()))
    return samples(metrics_port).get((name, wanted))


def eventually(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def engine_env(base: dict[str, str], data_dir, port: int, metrics_port: int) -> dict[str, str]:
    return {
        **base,
        "SV_DATA_DIR": str(data_dir),
        "SV_RECO_PORT": str(port),
        "SV_METRICS_PORT": str(metrics_port),
    }


@contextlib.contextmanager
def engine(env: dict[str, str], log_path):
    process = spawn("reco_svc", env, log_path)
    try:
        wait_serving(f"127.0.0.1:{env['SV_RECO_PORT']}", timeout=90)
        yield
    finally:
        stop(process)


def database(url: str, query: str, *args):
    async def go():
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchval(query, *args)
        finally:
            await conn.close()

    return asyncio.run(go())


@pytest.mark.parametrize("where", ["default", "s3", "shared-folder"])
def test_a_model_trained_with_one_data_dir_is_served_by_an_engine_with_another(settings, tmp_path, where):
    with fresh_database(settings, "artifacts") as url, contextlib.ExitStack() as stack:
        extra: dict[str, str] = {}
        if where == "s3":
            s3 = stack.enter_context(S3Server())
            s3.create_bucket("models")
            extra = {"artifact_store": "s3://models/storyverse", "artifact_s3_endpoint": s3.endpoint}
        elif where == "shared-folder":
            extra = {"artifact_store": str(tmp_path / "shared-volume")}
        base = service_env(replace(settings, database_url=url), **extra)
        if where == "s3":
            base.update(s3.env)
        trainer_dir = tmp_path / "training-pod"
        version = run("reco_svc.train", {**base, "SV_DATA_DIR": str(trainer_dir)}).strip().splitlines()[-1]
        if where != "shared-folder":  # a read-only root filesystem is enough for training
            assert not trainer_dir.exists() or not any(trainer_dir.iterdir())
        shutil.rmtree(trainer_dir, ignore_errors=True)  # the training pod and its disk are gone
        port, metrics_port = free_port(), free_port()
        with engine(engine_env(base, tmp_path / "engine-pod", port, metrics_port), tmp_path / "engine.log"):
            assert served_version(port) == version
            assert value(metrics_port, "storyverse_reco_model_outdated") == 0
        location = database(url, "SELECT path FROM reco_model_versions WHERE version = $1", version)
        assert location.startswith(
            {"default": "postgresql:", "s3": "s3://models/storyverse/"}.get(where, "file://")
        )


def test_an_engine_that_cannot_fetch_a_version_keeps_the_old_one_and_says_so(settings, tmp_path):
    with fresh_database(settings, "artifacts") as url:
        base = service_env(replace(settings, database_url=url), reco_model_poll_seconds=1)
        first = run("reco_svc.train", {**base, "SV_DATA_DIR": str(tmp_path / "t1")}).strip().splitlines()[-1]
        port, metrics_port = free_port(), free_port()
        with engine(engine_env(base, tmp_path / "e", port, metrics_port), tmp_path / "engine.log"):
            assert served_version(port) == first
            second = run("reco_svc.train", {**base, "SV_DATA_DIR": str(tmp_path / "t2")}, "--no-activate")
            second = second.strip().splitlines()[-1]
            key = f"reco/{second}.tar"
            archive = database(url, "SELECT data FROM artifact_objects WHERE key = $1", key)
            database(url, "UPDATE artifact_objects SET data = $2 WHERE key = $1", key, archive[:-100])
            run("reco_svc.registry", {**base, "SV_DATA_DIR": str(tmp_path / "cli")}, "activate", second)

            failures = "storyverse_reco_model_fetch_failures_total"
            eventually(lambda: (value(metrics_port, failures, reason="checksum") or 0) >= 1)
            assert value(metrics_port, "storyverse_reco_model_outdated") == 1
            assert served_version(port) == first, "the old version keeps serving"

            # The store heals (here: the object is whole again): the engine retries by itself.
            database(url, "UPDATE artifact_objects SET data = $2 WHERE key = $1", key, archive)
            eventually(lambda: served_version(port) == second)
            assert value(metrics_port, "storyverse_reco_model_outdated") == 0


def test_a_row_whose_archive_holds_another_version_is_refused_not_reloaded_forever(settings, tmp_path):
    """A hand-made registration: version "copy" names the archive of another version. Served, its
    lists would carry a version the registry does not know, and the loaded version would never
    equal the active row's (a reload on every check); refused like a broken file instead."""
    with fresh_database(settings, "artifacts") as url:
        base = service_env(replace(settings, database_url=url), reco_model_poll_seconds=1)
        first = run("reco_svc.train", {**base, "SV_DATA_DIR": str(tmp_path / "t1")}).strip().splitlines()[-1]
        copy = f"copy-of-{first}"
        database(
            url,
            "INSERT INTO reco_model_versions (version, path, metrics, sha256, size_bytes)"
            " SELECT $2, path, metrics, sha256, size_bytes FROM reco_model_versions WHERE version = $1"
            " RETURNING version",
            first,
            copy,
        )
        port, metrics_port = free_port(), free_port()
        with engine(engine_env(base, tmp_path / "e", port, metrics_port), tmp_path / "engine.log"):
            assert served_version(port) == first
            run("reco_svc.registry", {**base, "SV_DATA_DIR": str(tmp_path / "cli")}, "activate", copy)
            failures = "storyverse_reco_model_fetch_failures_total"
            eventually(lambda: (value(metrics_port, failures, reason="version") or 0) >= 1)
            assert value(metrics_port, "storyverse_reco_model_outdated") == 1
            assert served_version(port) == first, "the old version keeps serving"
            time.sleep(3)  # checks every second: retried with backoff (1, 2, 4 s …), not each check
            assert value(metrics_port, failures, reason="version") <= 3
