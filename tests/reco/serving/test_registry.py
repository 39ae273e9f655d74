"""A new model version is served without restart; rollback by RPC and by CLI."""

from __future__ import annotations

import subprocess
import sys
import uuid

from storyverse.recommendation.v1 import recommendation_service_pb2 as pb

from common.settings import REPO_ROOT
from reco_svc.offline.training_job import train
from tests.conftest import service_env
from tests.reco.serving.helpers import (
    eventually,
    recommend,
)


def served_version(stub, version: str):
    async def check():
        lists = await recommend(stub, f"user-{uuid.uuid4().hex[:6]}", "6-8", ["universe"])
        return lists[0].model_version == version

    return check


def cli(settings, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "reco_svc.registry", *args],
        cwd=REPO_ROOT,
        env=service_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def test_new_versions_are_picked_up_without_restart_and_can_be_rolled_back(reco_stub, db, settings):
    first = await train(db, settings)
    row = await db.fetchrow("SELECT path, sha256 FROM reco_model_versions WHERE version = $1", first.version)
    # SV_DATABASE_URL is set and SV_ARTIFACT_STORE is not: the archive is in PostgreSQL.
    assert row["path"] == f"postgresql:reco/{first.version}.tar" and len(row["sha256"]) == 64
    assert await eventually(served_version(reco_stub, first.version)), "first version not served"
    second = await train(db, settings)
    assert await eventually(served_version(reco_stub, second.version)), "second version not served"

    listing = await reco_stub.ListModelVersions(pb.ListModelVersionsRequest())
    versions = {v.version: v for v in listing.versions}
    assert versions[second.version].active and not versions[first.version].active
    assert "users" in versions[second.version].metrics
    assert listing.serving_version == second.version

    reply = await reco_stub.RollbackModelVersion(pb.RollbackModelVersionRequest())
    assert (reply.version.version, reply.previous_version) == (first.version, second.version)
    assert await eventually(served_version(reco_stub, first.version))

    # From another process: the service hears PostgreSQL's NOTIFY (or its poll) and switches.
    cli(settings, "activate", second.version)
    assert await eventually(served_version(reco_stub, second.version)), "CLI activation not picked up"
    out = cli(settings, "rollback")
    assert first.version in out
    assert await eventually(served_version(reco_stub, first.version)), "CLI rollback not picked up"
    assert first.version in cli(settings, "list")

    await reco_stub.ActivateModelVersion(pb.ActivateModelVersionRequest(version=second.version))
    assert await eventually(served_version(reco_stub, second.version))


async def test_a_version_that_cannot_be_loaded_leaves_the_current_one_serving(reco_stub, db, settings):
    good = await train(db, settings)
    assert await eventually(served_version(reco_stub, good.version))
    broken = await train(db, settings, activate=False)
    await db.execute(
        "UPDATE artifact_objects SET data = 'not a model archive' WHERE key = $1",
        f"reco/{broken.version}.tar",
    )
    reply = await reco_stub.ActivateModelVersion(pb.ActivateModelVersionRequest(version=broken.version))
    assert reply.version.active
    lists = await recommend(reco_stub, f"user-{uuid.uuid4().hex[:6]}", "6-8", ["character"])
    assert lists[0].model_version == good.version and lists[0].items
    await reco_stub.RollbackModelVersion(pb.RollbackModelVersionRequest())
    assert await eventually(served_version(reco_stub, good.version))
