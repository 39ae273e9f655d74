"""Errors as HTTP: gRPC status -> HTTP status, and one JSON error shape for everything.

{"code": <http status>, "message": "...", "details": [{"field": "...", "description": "..."}]}
"""

from __future__ import annotations

import json
import math

import grpc
from aiohttp import web
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2, status_pb2

from common.errors import STATUS_DETAILS_KEY, FieldViolation, violations_from_trailers

HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.CANCELLED: 499,  # client closed the request (nginx / grpc-gateway convention)
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}

# Trailing metadata a service may set to ask clients to back off, in seconds.
RETRY_AFTER_KEY = "retry-after"


class GatewayError(Exception):
    """An error answered as JSON, raised by the gateway itself or translated from gRPC."""

    def __init__(
        self,
        status: int,
        message: str,
        details: list[FieldViolation] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    @classmethod
    def bad_request(
        cls, message: str, field: str | None = None, description: str | None = None
    ) -> GatewayError:
        details = [FieldViolation(field, description or message)] if field else []
        return cls(400, message, details)

    def to_dict(self) -> dict:
        return {
            "code": self.status,
            "message": self.message,
            "details": [{"field": v.field, "description": v.description} for v in self.details],
        }


def http_status(code: grpc.StatusCode) -> int:
    return HTTP_STATUS.get(code, 500)


def from_rpc_error(error: grpc.aio.AioRpcError) -> GatewayError:
    trailers = error.trailing_metadata() or ()
    status = http_status(error.code())
    headers = {}
    if status in (429, 503):
        retry = retry_after_seconds(trailers)
        if retry is not None:
            headers["Retry-After"] = str(retry)
    message = error.details() or error.code().name
    return GatewayError(status, message, violations_from_trailers(trailers), headers)


def retry_after_seconds(trailers: object) -> int | None:
    """The service's retry hint: a `retry-after` trailer (seconds) or a google.rpc.RetryInfo detail."""
    for key, value in trailers or ():
        if key == RETRY_AFTER_KEY:
            try:
                seconds = float(value)
            except (TypeError, ValueError):
                continue
            if math.isfinite(seconds) and seconds >= 0:
                return math.ceil(seconds)
        if key == STATUS_DETAILS_KEY:
            retry = _retry_info(value)
            if retry is not None:
                return retry
    return None


def _retry_info(status_bytes: bytes) -> int | None:
    status = status_pb2.Status.FromString(status_bytes)
    for detail in status.details:
        info = error_details_pb2.RetryInfo()
        if detail.Unpack(info):
            delay: duration_pb2.Duration = info.retry_delay
            return math.ceil(delay.seconds + delay.nanos / 1e9)
    return None


def error_response(error: GatewayError) -> web.Response:
    return web.Response(
        status=error.status,
        text=json.dumps(error.to_dict()),
        content_type="application/json",
        headers=error.headers,
    )


def from_http_exception(exc: web.HTTPException) -> GatewayError:
    """aiohttp's own errors (unknown static path, body too large, ...) in our JSON shape."""
    headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
    message = exc.reason
    if exc.status == 413:
        message = f"request body too large: {exc.text}" if exc.text else "request body too large"
    return GatewayError(exc.status, message, headers=headers)
