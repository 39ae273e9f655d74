"""gRPC transport of storyverse.admin.v1.AdminService (hosted by the analytics process).

register(server, runtime)    # adds the servicer; returns its full service name
"""

from __future__ import annotations

import grpc
from storyverse.admin.v1 import admin_service_pb2 as pb
from storyverse.admin.v1 import admin_service_pb2_grpc as pb_grpc

from common.auth import current_principal
from common.privacy.erasure import erase_user

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["AdminService"].full_name


class AdminServicer(pb_grpc.AdminServiceServicer):
    def __init__(self, runtime) -> None:
        self.runtime = runtime

    async def DeleteUserData(self, request: pb.DeleteUserDataRequest, context: grpc.aio.ServicerContext):
        metadata = dict(context.invocation_metadata() or ())
        erasure = await erase_user(
            self.runtime.pool,
            self.runtime.bus,
            request.user_id,
            requested_by=f"key:{current_principal.get().key_id}",
            request_id=str(metadata.get("x-request-id", ""))[:128],
        )
        return pb.DeleteUserDataResponse(
            deleted=erasure.deleted, audit_id=erasure.audit_id, user_hash=erasure.user_hash
        )


def register(server: grpc.aio.Server, runtime) -> str:
    pb_grpc.add_AdminServiceServicer_to_server(AdminServicer(runtime), server)
    return SERVICE_NAME
