"""gRPC side of the gateway: CHANNELS_PER_TARGET channels per backend target, generic callables
per route that take turns over them.

Several channels, each its own TCP connection, because a service's workers share its port
(SV_ANALYTICS_WORKERS) and the kernel spreads connections, not calls: one connection would keep
one worker busy. No client interceptors: the gateway traces its calls itself (telemetry.py,
`traced_call`), which costs a fraction of grpc.aio's interceptor machinery per call."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health_pb2

from common.settings import Settings
from common.tls import open_channel
from gateway.routes import Route, Router
from gateway.transcode import message_class

HEALTH_CHECK = "/grpc.health.v1.Health/Check"
CHANNELS_PER_TARGET = 4


class TakingTurns:
    """A multicallable over several channels, one after the other."""

    __slots__ = ("_calls", "_turn")

    def __init__(self, calls: list[Callable]) -> None:
        self._calls = calls
        self._turn = 0

    def __call__(self, *args, **kwargs):
        self._turn = (self._turn + 1) % len(self._calls)
        return self._calls[self._turn](*args, **kwargs)


@dataclass
class Backends:
    """Channels keyed by target; a multicallable per route, built once at start-up."""

    settings: Settings
    channels: dict[str, list[grpc.aio.Channel]] = field(default_factory=dict)
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
            channels = self._channels_of(self.target_of(route))
            make = "unary_stream" if route.server_streaming else "unary_unary"
            self.calls[route] = TakingTurns(
                [
                    getattr(channel, make)(
                        route.grpc_path,
                        request_serializer=message_class(route.method.input_type).SerializeToString,
                        response_deserializer=message_class(route.method.output_type).FromString,
                    )
                    for channel in channels
                ]
            )
        for target in self.targets().values():
            self._channels_of(target)

    def raw_call(self, route: Route) -> Callable:
        """A unary multicallable for `route` taking the request's serialized bytes (replies parsed
        as usual), over the same channels: for callers that assemble the wire bytes themselves."""
        return TakingTurns(
            [
                channel.unary_unary(
                    route.grpc_path,
                    request_serializer=None,
                    response_deserializer=message_class(route.method.output_type).FromString,
                )
                for channel in self._channels_of(self.target_of(route))
            ]
        )

    def _channels_of(self, target: str) -> list[grpc.aio.Channel]:
        channels = self.channels.get(target)
        if channels is None:
            channels = self.channels[target] = [
                _channel(target, self.settings) for _ in range(CHANNELS_PER_TARGET)
            ]
        return channels

    async def close(self) -> None:
        await asyncio.gather(*(c.close(grace=None) for channels in self.channels.values() for c in channels))
        self.channels.clear()
        self.calls.clear()

    async def health(self, timeout: float = 1.0) -> dict[str, str]:
        """SERVING / NOT_SERVING / the gRPC error, per backend, checked concurrently."""

        async def check(target: str) -> str:
            channel = self.channels[target][0]
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
    # TLS (mutual with a client certificate) when SV_TLS_CA_FILE is set (common/tls.py).
    # Several addresses ("ipv4:a:1,b:2", the launcher's replicas): spread calls over them.
    # A local subchannel pool: each channel its own connection (see the module's docstring).
    options = [("grpc.use_local_subchannel_pool", 1)]
    if "," in target:
        options.append(("grpc.lb_policy_name", "round_robin"))
    return open_channel(target, settings, options=options)
