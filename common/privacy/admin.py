"""gRPC transport of storyverse.admin.v1.AdminService (hosted by the analytics process).

register(server, runtime)    # adds the servicer; returns its full service name
"""

from __future__ import annotations

from datetime import datetime

import grpc
from storyverse.admin.v1 import admin_service_pb2 as pb
from storyverse.admin.v1 import admin_service_pb2_grpc as pb_grpc

from common.auth import current_principal
from common.errors import NotFound
from common.privacy import jobs, peers
from common.privacy.erasure import request_erasure, wait_while_erasing

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["AdminService"].full_name


class AdminServicer(pb_grpc.AdminServiceServicer):
    def __init__(self, runtime) -> None:
        self.runtime = runtime

    async def DeleteUserData(self, request: pb.DeleteUserDataRequest, context: grpc.aio.ServicerContext):
        metadata = dict(context.invocation_metadata() or ())
        pool = self.runtime.pool
        erasure = await request_erasure(
            pool,
            self.runtime.bus,
            request.user_id,
            requested_by=f"key:{current_principal.get().key_id}",
            request_id=str(metadata.get("x-request-id", ""))[:128],
        )
        await wait_while_erasing(pool, erasure.audit_id, self.runtime.settings.erasure_wait_seconds)
        status = await jobs.status(pool, erasure.audit_id)
        return pb.DeleteUserDataResponse(
            deleted=status.removed, audit_id=erasure.audit_id, user_hash=erasure.user_hash, state=status.state
        )

    async def GetErasureStatus(self, request: pb.GetErasureStatusRequest, context: grpc.aio.ServicerContext):
        # This database's job, with the progress the services on other databases reported.
        status = await peers.with_peers(
            self.runtime.pool, await jobs.status(self.runtime.pool, request.audit_id)
        )
        if status is None:
            raise NotFound(f"no erasure job {request.audit_id}")
        return pb.GetErasureStatusResponse(
            audit_id=status.audit_id,
            user_hash=status.user_hash,
            state=status.state,
            pass_number=status.pass_,
            requested_at=_rfc3339(status.requested_at),
            completed_at=_rfc3339(status.completed_at),
            deleted=status.removed,
            steps=[
                pb.ErasureStepStatus(
                    step=s.step,
                    service=s.service,
                    store=s.store,
                    done=s.done,
                    attempts=s.attempts,
                    last_error=s.last_error,
                    removed=s.removed,
                    next_attempt_at=_rfc3339(s.due_at),
                )
                for s in status.steps
            ],
        )


def _rfc3339(at: datetime | None) -> str:
    return at.isoformat().replace("+00:00", "Z") if at is not None else ""


def register(server: grpc.aio.Server, runtime) -> str:
    pb_grpc.add_AdminServiceServicer_to_server(AdminServicer(runtime), server)
    return SERVICE_NAME
