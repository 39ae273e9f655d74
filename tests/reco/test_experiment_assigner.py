"""The engine's side of recommendation experiments when analytics cannot answer: children get
control at once (nothing is exposed), and the engine does not ask again per request."""

from __future__ import annotations

import grpc

from reco_svc.experiments import (
    CONTROL,
    AnalyticsExperiments,
    Arm,
    ExperimentAssigner,
    Running,
    VariantModels,
)
from tests.conftest import free_port


async def test_an_unreachable_analytics_service_means_control_and_one_call_per_child_and_pause():
    async with grpc.aio.insecure_channel(f"127.0.0.1:{free_port()}") as channel:  # nobody listens
        assigner = ExperimentAssigner(
            AnalyticsExperiments(channel, timeout=0.5), VariantModels(None, None), ttl_seconds=60
        )
        await assigner.refresh()  # the poll: logged once, nothing changes, nothing raised
        assert assigner.running is None
        assigner.running = Running("models", (Arm("control"), Arm("treatment", diversity=False)))
        for _ in range(3):
            choice = await assigner.choose("child-1", "6-8", "tablet")
            assert (choice.experiment_key, choice.variant, choice.model) == ("", CONTROL, None)
        assert assigner.calls == 1  # the failure is remembered for a few seconds
        await assigner.choose("child-2", "6-8", "tablet")
        assert assigner.calls == 2
        await assigner.forget("child-1")  # erasure: nothing of the child stays
        assert all(key[0] != "child-1" for key in assigner._cache)
