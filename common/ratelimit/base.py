"""What every rate limiter offers: a token bucket per key.

    limiter = create_rate_limiter(settings, RateLimit(rate=5.0, burst=20))  # Redis when SV_REDIS_URL is set
    decision = await limiter.acquire("api-key:abc")        # one token
    if not decision.allowed:
        raise ResourceExhausted("slow down", retry_after=decision.retry_after)

A bucket holds up to `burst` tokens and refills at `rate` tokens per second; a request
takes `cost` tokens or is refused with the seconds until it could pass. Buckets nobody
uses expire (Redis) or are evicted (memory), so keys may be unbounded (users, IPs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class RateLimit:
    rate: float  # tokens per second
    burst: float  # bucket capacity

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst <= 0:
            raise ValueError("rate and burst must be positive")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: float  # tokens left after this request
    retry_after: float  # seconds until `cost` tokens are available (0 when allowed)


class RateLimiter(Protocol):
    async def acquire(self, key: str, cost: float = 1.0) -> Decision: ...

    async def aclose(self) -> None: ...


def take(tokens: float, updated: float, now: float, limit: RateLimit, cost: float) -> tuple[Decision, float]:
    """The token bucket arithmetic shared by the memory backend (the Lua script mirrors it)."""
    tokens = min(limit.burst, tokens + max(0.0, now - updated) * limit.rate)
    if tokens >= cost:
        return Decision(True, tokens - cost, 0.0), tokens - cost
    return Decision(False, tokens, (cost - tokens) / limit.rate), tokens
