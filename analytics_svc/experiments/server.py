"""gRPC transport of the experiment service: protobuf in, domain calls, protobuf out."""

from __future__ import annotations

import asyncpg
from storyverse.analytics.v1 import experiments_pb2 as pb
from storyverse.analytics.v1 import experiments_pb2_grpc as pb_grpc

from analytics_svc.experiments import admin
from analytics_svc.experiments import store as experiment_store
from analytics_svc.experiments.assignment import Context
from analytics_svc.experiments.messages import experiment_from, experiment_to
from analytics_svc.ingestion.recorder import EventRecorder


class ExperimentServicer(pb_grpc.ExperimentServiceServicer):
    def __init__(self, pool: asyncpg.Pool, recorder: EventRecorder) -> None:
        self.pool = pool
        self.recorder = recorder

    async def CreateExperiment(self, request: pb.CreateExperimentRequest, context):
        created = await admin.create(self.pool, experiment_from(request.experiment))
        return pb.CreateExperimentResponse(experiment=experiment_to(created))

    async def UpdateExperiment(self, request: pb.UpdateExperimentRequest, context):
        saved = await admin.update(self.pool, request.key, experiment_from(request.experiment))
        return pb.UpdateExperimentResponse(experiment=experiment_to(saved))

    async def StartExperiment(self, request: pb.StartExperimentRequest, context):
        return pb.StartExperimentResponse(
            experiment=experiment_to(await admin.transition(self.pool, request.key, "running"))
        )

    async def StopExperiment(self, request: pb.StopExperimentRequest, context):
        return pb.StopExperimentResponse(
            experiment=experiment_to(await admin.transition(self.pool, request.key, "stopped"))
        )

    async def GetExperiment(self, request: pb.GetExperimentRequest, context):
        return pb.GetExperimentResponse(experiment=experiment_to(await admin.get(self.pool, request.key)))

    async def ListExperiments(self, request: pb.ListExperimentsRequest, context):
        found = await experiment_store.list_all(self.pool, request.status)
        return pb.ListExperimentsResponse(experiments=[experiment_to(e) for e in found])

    async def GetAssignments(self, request: pb.GetAssignmentsRequest, context):
        c = request.context
        got = await admin.assignments(
            self.pool, self.recorder, request.user_id, Context(c.age_group, c.platform, c.device_type)
        )
        return pb.GetAssignmentsResponse(
            assignments=[pb.Assignment(experiment_key=k, variant=v, new_exposure=new) for k, v, new in got]
        )
