"""gRPC side of the gateway: one channel per backend target, generic callables per route."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health_pb2

from common.settings import Settings
from common.telemetry_grpc import client_interceptors
from common.tls import open_channel
from gateway.routes import Route, Router
from gateway.transcode import message_class

HEALTH_CHECK = "/grpc.health.v1.Health/Check"


@dataclass
class Backends:
    """Channels keyed by target; a multicallable per route, built once at start-up."""

    settings: Settings
    channels: dict[str, grpc.aio.Channel] = field(default_factory=dict)
    calls: dict[Route, Callable] = field(default_factory=dict)

    def target_of(self, route: Route) -> str:
        return getattr(self.settings, route.settings_target)

    def targets(self) -> dict[str, str]:
        """Backend name (analytics, reco, feedback) -> target."""
        return {
            name.removesuffix("_target"): getattr(self.settings, name)
            for name in ("analytics_target", "reco_target", "feedback_target")
        }

    def open(self, router: Router) -> None:
        for route in router.routes:
            target = self.target_of(route)
            channel = self.channels.get(target)
            if channel is None:
                channel = self.channels[target] = _channel(target, self.settings)
            make = channel.unary_stream if route.server_streaming else channel.unary_unary
            self.calls[route] = make(
                route.grpc_path,
                request_serializer=message_class(route.method.input_type).SerializeToString,
                response_deserializer=message_class(route.method.output_type).FromString,
            )
        for target in self.targets().values():
            if target not in self.channels:
                self.channels[target] = _channel(target, self.settings)

    async def close(self) -> None:
        await asyncio.gather(*(channel.close(grace=None) for channel in self.channels.values()))
        self.channels.clear()
        self.calls.clear()

    async def health(self, timeout: float = 1.0) -> dict[str, str]:
        """SERVING / NOT_SERVING / the gRPC error, per backend, checked concurrently."""

        async def check(target: str) -> str:
            channel = self.channels[target]
            call = channel.unary_unary(
                HEALTH_CHECK,
                request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                response_deserializer=health_pb2.HealthCheckResponse.FromString,
            )
            try:
                reply = await call(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
            except grpc.aio.AioRpcError as exc:
                return exc.code().name
            return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)

        names = self.targets()
        results = await asyncio.gather(*(check(target) for target in names.values()))
        return dict(zip(names, results, strict=True))


def _channel(target: str, settings: Settings) -> grpc.aio.Channel:
    # The interceptors carry the request's trace context to the services (W3C traceparent);
    # TLS (mutual with a client certificate) when SV_TLS_CA_FILE is set (common/tls.py).
    # Several addresses ("ipv4:a:1,b:2", the launcher's replicas): spread calls over them.
    options = [("grpc.lb_policy_name", "round_robin")] if "," in target else []
    return open_channel(target, settings, options=options, interceptors=client_interceptors())
