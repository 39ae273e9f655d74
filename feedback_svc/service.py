"""Wiring of the feedback service."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import grpc
from storyverse.feedback.v1 import feedback_service_pb2, feedback_service_pb2_grpc

from common.grpc_server import Runtime, ServiceSpec
from feedback_svc.server import FeedbackServicer

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = feedback_service_pb2.DESCRIPTOR.services_by_name["FeedbackService"].full_name


@dataclass
class FeedbackComponent:
    service_names: list[str] = field(default_factory=lambda: [SERVICE_NAME])

    async def aclose(self) -> None:
        return None


async def build(server: grpc.aio.Server, runtime: Runtime) -> FeedbackComponent:
    feedback_service_pb2_grpc.add_FeedbackServiceServicer_to_server(FeedbackServicer(), server)
    return FeedbackComponent()


SPEC = ServiceSpec("feedback", build, migrations=[("feedback", MIGRATIONS)])
