"""gRPC side of the gateway: CHANNELS_PER_TARGET channels per backend target, generic callables
per route that send each call over the channel with the fewest calls in flight.

Several channels, each its own TCP connection, because a service's workers share its port
(SV_ANALYTICS_WORKERS) and the kernel spreads connections, not calls: one connection would keep
one worker busy. The kernel spreads them by a hash, not evenly: of 4 connections to 2
workers, all 4 reach one worker one time in 8 (of 8, one time in 128). Each call goes to the
channel with the fewest calls in flight (least-request balancing, as Envoy's): idle channels
take turns, and the channels of a worker that falls behind (a burst, a pause) hold more calls
and get fewer new ones. No client interceptors: the gateway traces its calls itself (telemetry.py,
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
CHANNELS_PER_TARGET = 8  # all on one of 2 workers: one time in 128


class LeastBusy:
    """A multicallable over several channels: each call goes to the one with the fewest calls
    in flight, the search starting one past the last choice (so that idle channels take turns).
    `in_flight`, one count per channel, is shared by the multicallables of the same channels:
    every route's calls load the same workers.

        call = LeastBusy([channel.unary_unary(path) for channel in channels])
        reply = await call(request, timeout=5)"""

    __slots__ = ("_calls", "_in_flight", "_turn", "_done")

    def __init__(self, calls: list[Callable], in_flight: list[int] | None = None) -> None:
        self._calls = calls
        self._in_flight = in_flight if in_flight is not None else [0] * len(calls)
        self._turn = 0
        # One callback per channel, made once: a call's end gives its channel's count back.
        self._done = [self._ended_on(i) for i in range(len(calls))]

    def _ended_on(self, index: int) -> Callable:
        def ended(_call) -> None:
            self._in_flight[index] -= 1

        return ended

    @property
    def in_flight(self) -> list[int]:
        return list(self._in_flight)

    def __call__(self, *args, **kwargs):
        counts, n = self._in_flight, len(self._calls)
        chosen = start = (self._turn + 1) % n
        for step in range(1, n):
            i = (start + step) % n
            if counts[i] < counts[chosen]:
                chosen = i
        self._turn = chosen
        call = self._calls[chosen](*args, **kwargs)
        counts[chosen] += 1
        call.add_done_callback(self._done[chosen])
        return call


@dataclass
class Backends:
    """Channels keyed by target; a multicallable per route, built once at start-up."""

    settings: Settings
    channels: dict[str, list[grpc.aio.Channel]] = field(default_factory=dict)
    in_flight: dict[str, list[int]] = field(default_factory=dict)  # per target, per channel
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
            channels = self._channels_of(target)
            make = "unary_stream" if route.server_streaming else "unary_unary"
            self.calls[route] = LeastBusy(
                [
                    getattr(channel, make)(
                        route.grpc_path,
                        request_serializer=message_class(route.method.input_type).SerializeToString,
                        response_deserializer=message_class(route.method.output_type).FromString,
                    )
                    for channel in channels
                ],
                self.in_flight[target],
            )
        for target in self.targets().values():
            self._channels_of(target)

    def raw_call(self, route: Route) -> Callable:
        """A unary multicallable for `route` taking the request's serialized bytes (replies parsed
        as usual), over the same channels: for callers that assemble the wire bytes themselves."""
        target = self.target_of(route)
        return LeastBusy(
            [
                channel.unary_unary(
                    route.grpc_path,
                    request_serializer=None,
                    response_deserializer=message_class(route.method.output_type).FromString,
                )
                for channel in self._channels_of(target)
            ],
            self.in_flight[target],
        )

    def _channels_of(self, target: str) -> list[grpc.aio.Channel]:
        channels = self.channels.get(target)
        if channels is None:
            channels = self.channels[target] = [
                _channel(target, self.settings) for _ in range(CHANNELS_PER_TARGET)
            ]
            self.in_flight[target] = [0] * len(channels)
        return channels

    async def close(self) -> None:
        await asyncio.gather(*(c.close(grace=None) for channels in self.channels.values() for c in channels))
        self.channels.clear()
        self.in_flight.clear()
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
