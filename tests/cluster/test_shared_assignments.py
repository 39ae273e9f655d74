"""Two analytics replicas on one PostgreSQL hand every user the same experiment variant,
and keep it when the weights change on the other replica (assignments are stored on first
exposure, so neither process's memory decides)."""

from __future__ import annotations

import uuid

import grpc
from google.protobuf import json_format
from storyverse.analytics.v1 import experiments_pb2 as pb
from storyverse.analytics.v1 import experiments_pb2_grpc as pb_grpc

from analytics_svc.service import SPEC
from common.bus.inprocess import InProcessBus
from tests.conftest import start_service


async def assignments(stub: pb_grpc.ExperimentServiceStub, users: list[str], key: str) -> dict[str, str]:
    got = {}
    for user in users:
        reply = await stub.GetAssignments(pb.GetAssignmentsRequest(user_id=user))
        got[user] = next(a.variant for a in reply.assignments if a.experiment_key == key)
    return got


async def test_two_replicas_share_assignments_and_keep_them_after_a_weight_change(settings):
    # Each replica with a bus of its own, as separate processes would have: sharing the
    # session's in-process bus would take over (and on stop remove) its groups.
    buses = [InProcessBus() for _ in range(2)]
    for own_bus in buses:
        await own_bus.start()
    replicas = [await start_service(SPEC, settings, own_bus) for own_bus in buses]
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{r.port}") for r in replicas]
    try:
        first, second = (pb_grpc.ExperimentServiceStub(c) for c in channels)
        key = f"replica-{uuid.uuid4().hex[:8]}"
        experiment = json_format.ParseDict(
            {
                "key": key,
                "description": "shared assignments",
                "variants": [{"key": "control", "weight": 50}, {"key": "treatment", "weight": 50}],
                "primary_metric": {"name": "completed", "kind": "conversion", "event": "story_completed"},
            },
            pb.Experiment(),
        )
        await first.CreateExperiment(pb.CreateExperimentRequest(experiment=experiment))
        await second.StartExperiment(pb.StartExperimentRequest(key=key))
        users = [f"replica-user-{i}" for i in range(40)]
        from_first = await assignments(first, users[:20], key)
        from_second = await assignments(second, users, key)
        assert {u: from_second[u] for u in from_first} == from_first
        assert set(from_second.values()) == {"control", "treatment"}

        update = pb.Experiment()
        update.CopyFrom(experiment)
        del update.variants[:]
        update.variants.add(key="control", weight=10)
        update.variants.add(key="treatment", weight=90)
        await second.UpdateExperiment(pb.UpdateExperimentRequest(key=key, experiment=update))
        assert await assignments(first, users, key) == from_second
    finally:
        for channel in channels:
            await channel.close()
        for replica in replicas:
            await replica.stop(grace=1)
        for own_bus in buses:
            await own_bus.aclose()
