"""Rate limiters: a small protocol (base.py), one module per backend (memory.py, redis.py).

limiter = create_rate_limiter(settings, rate=5.0, burst=20)   # Redis when SV_REDIS_URL is set
"""

from common.ratelimit.base import RateLimiter
from common.settings import Settings


def create_rate_limiter(settings: Settings, rate: float, burst: float, prefix: str = "sv:rl:") -> RateLimiter:
    if settings.redis_url:
        from common.ratelimit.redis import RedisRateLimiter

        return RedisRateLimiter(
            settings.redis_url,
            rate,
            burst,
            timeout=settings.redis_timeout_seconds,
            retry_after=settings.redis_retry_seconds,
            prefix=prefix,
        )
    from common.ratelimit.memory import MemoryRateLimiter

    return MemoryRateLimiter(rate, burst)


__all__ = ["RateLimiter", "create_rate_limiter"]
