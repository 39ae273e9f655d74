"""Domain errors and how they travel over gRPC.

Services raise these; the error interceptor turns them into a gRPC status. Field
violations travel as a google.rpc.Status with a google.rpc.BadRequest detail in the
`grpc-status-details-bin` trailer (the standard rich-error encoding), so grpcurl,
other gRPC clients and the gateway all see which field was wrong and why.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg
import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class ServiceError(Exception):
    code = grpc.StatusCode.INTERNAL

    def __init__(self, message: str, violations: list[FieldViolation] | None = None, retry_after: float = 0):
        super().__init__(message)
        self.message = message
        self.violations = violations or []
        self.retry_after = retry_after


class InvalidArgument(ServiceError):
    code = grpc.StatusCode.INVALID_ARGUMENT

    @classmethod
    def of(cls, violations: list[FieldViolation]) -> InvalidArgument:
        summary = "; ".join(f"{v.field}: {v.description}" for v in violations[:5])
        return cls(f"invalid request: {summary}", violations)


class NotFound(ServiceError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(ServiceError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(ServiceError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class PermissionDenied(ServiceError):
    code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(ServiceError):
    code = grpc.StatusCode.UNAUTHENTICATED


class ResourceExhausted(ServiceError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Unavailable(ServiceError):
    code = grpc.StatusCode.UNAVAILABLE


# What a missing dependency looks like from inside a call: a database or peer that refuses,
# drops or does not answer in time (the pool's acquire timeout is a TimeoutError).
_UNAVAILABLE_ERRORS = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.PostgresConnectionError,
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
)


def is_dependency_unavailable(exc: BaseException) -> bool:
    """True for errors that mean "retry later" (UNAVAILABLE, HTTP 503), not a bug."""
    return isinstance(exc, _UNAVAILABLE_ERRORS)


def status_details(code: grpc.StatusCode, message: str, violations: list[FieldViolation]) -> bytes:
    """Serialize a google.rpc.Status carrying the field violations (and nothing else)."""
    status = status_pb2.Status(code=code.value[0], message=message)
    if violations:
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in violations
            ]
        )
        detail = any_pb2.Any()
        detail.Pack(bad_request)
        status.details.append(detail)
    return status.SerializeToString()


def violations_from_trailers(trailing_metadata: object) -> list[FieldViolation]:
    """Read the field violations back from a call's trailing metadata (client side)."""
    for key, value in trailing_metadata or ():
        if key != STATUS_DETAILS_KEY:
            continue
        status = status_pb2.Status.FromString(value)
        found: list[FieldViolation] = []
        for detail in status.details:
            bad_request = error_details_pb2.BadRequest()
            if detail.Unpack(bad_request):
                found += [FieldViolation(v.field, v.description) for v in bad_request.field_violations]
        return found
    return []


assert grpc.StatusCode.INVALID_ARGUMENT.value[0] == code_pb2.INVALID_ARGUMENT
