"""HTTP/JSON gateway in front of the three gRPC services, grpc-gateway style.

Routes, request transcoding and the OpenAPI document are all derived from the
`google.api.http` annotations in the protobuf contract; there is no per-route code.
"""
