"""What every rate limiter offers: a token bucket per key.

    limiter = create_rate_limiter(settings, rate=5.0, burst=20)   # Redis when SV_REDIS_URL is set
    wait = await limiter.acquire("key-id")    # 0.0: go ahead; > 0: refused, retry after that many s
    await limiter.aclose()

A bucket holds up to `burst` tokens and refills at `rate` tokens per second; a request takes
`cost` tokens (at most `burst`: a larger cost takes a full bucket, or it could never pass), or
is refused (taking none) with the seconds until it could pass. Buckets
nobody uses expire (Redis) or are evicted (memory), so keys may be unbounded (users, IPs).
The protocol is the one the security branch's limits already call (`common/limits.py`).
"""

from __future__ import annotations

from typing import Protocol


class RateLimiter(Protocol):
    async def acquire(self, key: str, cost: float = 1.0) -> float: ...

    async def aclose(self) -> None: ...


def take(
    tokens: float, updated: float, now: float, rate: float, burst: float, cost: float
) -> tuple[float, float]:
    """Token-bucket arithmetic of the memory backend (the Lua script mirrors it): (wait, tokens left)."""
    tokens = min(burst, tokens + max(0.0, now - updated) * rate)
    cost = min(cost, burst)
    if tokens >= cost:
        return 0.0, tokens - cost
    return (cost - tokens) / rate, tokens
