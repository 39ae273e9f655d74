"""Calls to Redis that never hang and never fail their caller: deadline, breaker, fallback.

    client = connect(settings.redis_url, timeout=0.25)
    guard = RedisGuard("features", timeout=0.25, retry_after=5.0)
    items = await guard.run("LRANGE", lambda: client.lrange(key, 0, 9), lambda: memory.recent(user))

Each call gets the settings' deadline (SV_REDIS_TIMEOUT_SECONDS). A timeout or connection
error opens the breaker (common/circuit.py) and the fallback answers; while open, Redis is
not asked at all for SV_REDIS_RETRY_SECONDS. Inside a recorded trace each call is a span.
A write can say what it missed (`unsent`), and `on_recovered` hooks run when Redis answers
again, so a store can send what it kept meanwhile (reco_svc/features/redis.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from opentelemetry import trace
from opentelemetry.trace import SpanKind
from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from common import metrics
from common.circuit import CircuitBreaker
from common.telemetry import tracer

T = TypeVar("T")


def connect(url: str, timeout: float) -> Redis:
    # No client-side retries: the breaker decides when to try again, callers never wait twice.
    return Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=30,
    )


class RedisGuard:
    def __init__(self, name: str, timeout: float, retry_after: float) -> None:
        self.name = name
        self.timeout = timeout
        self.breaker = CircuitBreaker(f"redis {name}", retry_after=retry_after)
        # Called when a call succeeds after the breaker was open.
        self.on_recovered: list[Callable[[], None]] = []

    async def run(
        self,
        op: str,
        call: Callable[[], Awaitable[T]],
        fallback: Callable[[], Awaitable[T]],
        unsent: Callable[[bool], None] | None = None,
    ) -> T:
        """`unsent(sure)`, for a write, runs before the fallback answers: sure when the call
        never left (breaker open), not sure when it failed on the way (a timeout: Redis may
        still run it)."""
        if not self.breaker.allows():
            metrics.REDIS_FALLBACKS.add(1, {"store": self.name, "reason": "open"})
            if unsent is not None:
                unsent(True)
            return await fallback()
        try:
            with _span(op):
                async with asyncio.timeout(self.timeout):
                    result = await call()
        except (RedisError, OSError, TimeoutError) as exc:
            self.breaker.failed(exc)
            metrics.REDIS_FALLBACKS.add(1, {"store": self.name, "reason": type(exc).__name__})
            if unsent is not None:
                unsent(False)
            return await fallback()
        was_open = self.breaker.is_open
        self.breaker.succeeded()
        if was_open:
            for hook in self.on_recovered:
                hook()
        return result


class _NoSpan:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info) -> None:
        return None


def _span(op: str):
    if not trace.get_current_span().is_recording():
        return _NoSpan()
    return tracer.start_as_current_span(
        f"redis {op}", kind=SpanKind.CLIENT, attributes={"db.system": "redis", "db.operation": op}
    )
