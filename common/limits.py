"""Guards every call of our services passes before its servicer runs.

A guard is `guard(call) -> async context manager` held around the call; raising a
ServiceError refuses it (the interceptor maps it to a gRPC status, the gateway to
HTTP). In order:

- access: the API key and the RPC's scope (common/auth.py, common/scopes.py);
- rate: a token bucket per API key (anonymous calls of the open profile are not limited); a
  call carrying `x-sv-merged-calls: N` (the gateway's merged single events) costs N tokens;
- concurrency: at most SV_MAX_CONCURRENT_CALLS calls at once; beyond that answer
  RESOURCE_EXHAUSTED with `retry-after: 1` at once instead of queueing without bound;
- deadline: a unary call runs at most SV_MAX_CALL_SECONDS (DEADLINE_EXCEEDED).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import grpc

from common.auth import ANONYMOUS, Authenticator, current_principal
from common.errors import ResourceExhausted, ServiceError
from common.ratelimit.base import RateLimiter


class DeadlineExceeded(ServiceError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


@dataclass(frozen=True)
class Call:
    method: str
    metadata: tuple[tuple[str, str], ...]
    streaming: bool


Guard = Callable[[Call], AbstractAsyncContextManager[None]]


def access_guard(authenticator: Authenticator) -> Guard:
    @contextlib.asynccontextmanager
    async def guard(call: Call) -> AsyncIterator[None]:
        principal = await authenticator.authorize(call.method, call.metadata)
        token = current_principal.set(principal)
        try:
            yield
        finally:
            current_principal.reset(token)

    return guard


def rate_guard(limiter: RateLimiter) -> Guard:
    @contextlib.asynccontextmanager
    async def guard(call: Call) -> AsyncIterator[None]:
        principal = current_principal.get()
        if principal is not ANONYMOUS:
            wait = await limiter.acquire(principal.key_id, merged_calls(call.metadata))
            if wait > 0:
                raise ResourceExhausted(f"rate limit of key {principal.key_id} exceeded", retry_after=wait)
        yield

    return guard


MERGED_CALLS_KEY = "x-sv-merged-calls"
MAX_MERGED_CALLS = 1000


def merged_calls(metadata: tuple[tuple[str, str], ...]) -> int:
    """How many callers' calls this one call carries (1 unless the gateway merged them). Only
    ever more than one: a caller cannot make its call cheaper by sending the header."""
    for name, value in metadata:
        if name == MERGED_CALLS_KEY:
            return min(MAX_MERGED_CALLS, int(value)) if value.isdigit() and int(value) > 1 else 1
    return 1


def concurrency_guard(limit: int) -> Guard:
    in_flight = 0

    @contextlib.asynccontextmanager
    async def guard(call: Call) -> AsyncIterator[None]:
        nonlocal in_flight
        if call.streaming:  # a watch lasts as long as its client stays: not a unit of work
            yield
            return
        if in_flight >= limit:
            raise ResourceExhausted(f"server busy: {limit} calls in flight", retry_after=1)
        in_flight += 1
        try:
            yield
        finally:
            in_flight -= 1

    return guard


def deadline_guard(seconds: float) -> Guard:
    @contextlib.asynccontextmanager
    async def guard(call: Call) -> AsyncIterator[None]:
        if call.streaming or seconds <= 0:
            yield
            return
        timeout = asyncio.timeout(seconds)
        try:
            async with timeout:
                yield
        except TimeoutError:
            if timeout.expired():
                raise DeadlineExceeded(f"the call took longer than the server's {seconds:g} s") from None
            raise

    return guard
