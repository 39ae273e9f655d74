"""Wiring of the recommendation engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import grpc
from storyverse.recommendation.v1 import recommendation_service_pb2, recommendation_service_pb2_grpc

from common.grpc_server import Runtime, ServiceSpec
from reco_svc.server import RecommendationServicer

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = recommendation_service_pb2.DESCRIPTOR.services_by_name["RecommendationService"].full_name


@dataclass
class RecoComponent:
    service_names: list[str] = field(default_factory=lambda: [SERVICE_NAME])

    async def aclose(self) -> None:
        return None


async def build(server: grpc.aio.Server, runtime: Runtime) -> RecoComponent:
    recommendation_service_pb2_grpc.add_RecommendationServiceServicer_to_server(
        RecommendationServicer(), server
    )
    return RecoComponent()


SPEC = ServiceSpec("recommendation", build, migrations=[("reco", MIGRATIONS)])
