"""Rate limiting: one small protocol (base.py), one module per backend.

limiter = create_rate_limiter(settings, RateLimit(rate=5.0, burst=20))   # Redis when SV_REDIS_URL is set
"""

from common.ratelimit.base import Decision, RateLimit, RateLimiter
from common.settings import Settings


def create_rate_limiter(settings: Settings, limit: RateLimit, prefix: str = "sv:rl:") -> RateLimiter:
    if settings.redis_url:
        from common.ratelimit.redis import RedisRateLimiter

        return RedisRateLimiter(
            settings.redis_url,
            limit,
            timeout=settings.redis_timeout_seconds,
            retry_after=settings.redis_retry_seconds,
            prefix=prefix,
        )
    from common.ratelimit.memory import MemoryRateLimiter

    return MemoryRateLimiter(limit)


__all__ = ["Decision", "RateLimit", "RateLimiter", "create_rate_limiter"]
