"""Rate limiters: a small protocol (base.py), one module per backend (memory.py).

    limiter = create_rate_limiter(settings, rate=5.0, burst=20)

Same entry point as the cluster branch's, which adds the Redis backend (used when
SV_REDIS_URL is set): on merge its version of this package replaces this one.
"""

from common.ratelimit.base import RateLimiter
from common.settings import Settings


def create_rate_limiter(settings: Settings, rate: float, burst: float, prefix: str = "sv:rl:") -> RateLimiter:
    from common.ratelimit.memory import MemoryRateLimiter

    return MemoryRateLimiter(rate, burst)


__all__ = ["RateLimiter", "create_rate_limiter"]
