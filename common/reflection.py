"""gRPC server reflection under both names clients ask for: grpc.reflection.v1 and v1alpha.

grpcio-reflection ships only v1alpha (grpc/grpc#38576), while current grpcurl and other
tools ask for v1 first. The two protocols are the same messages and the same method under
another package name, so one v1alpha servicer answers both: the v1 name is a second
handler over the same servicer (the bytes on the wire are identical), and the v1 file
descriptor, derived from the v1alpha one by renaming its package, is added to the pool so
that reflection can describe the v1 service too.
"""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection, reflection_pb2

V1ALPHA = reflection.SERVICE_NAME  # grpc.reflection.v1alpha.ServerReflection
V1_PACKAGE = "grpc.reflection.v1"
V1 = f"{V1_PACKAGE}.ServerReflection"
V1_FILE = "grpc/reflection/v1/reflection.proto"


def _register_v1_descriptor(pool: descriptor_pool.DescriptorPool) -> None:
    """Add grpc/reflection/v1/reflection.proto to the pool: the v1alpha file under the v1 package."""
    try:
        pool.FindFileByName(V1_FILE)
        return
    except KeyError:
        pass
    proto = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(proto)
    old = "." + proto.package + "."
    proto.name, proto.package = V1_FILE, V1_PACKAGE
    proto.options.Clear()
    for message in proto.message_type:
        for field in message.field:
            if field.type_name.startswith(old):
                field.type_name = f".{V1_PACKAGE}." + field.type_name[len(old) :]
    for service in proto.service:
        for method in service.method:
            method.input_type = f".{V1_PACKAGE}." + method.input_type[len(old) :]
            method.output_type = f".{V1_PACKAGE}." + method.output_type[len(old) :]
    pool.Add(proto)


def enable_reflection(service_names: Iterable[str], server: grpc.aio.Server) -> None:
    """Serve reflection v1 and v1alpha on `server`, both listing `service_names` and themselves."""
    _register_v1_descriptor(descriptor_pool.Default())
    servicer = reflection.aio.ReflectionServicer([*service_names, V1, V1ALPHA])
    handler = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(V1ALPHA, {"ServerReflectionInfo": handler}),
            grpc.method_handlers_generic_handler(V1, {"ServerReflectionInfo": handler}),
        )
    )
