"""The in-process rate limiter: one pod's view; Redis's fallback while it is down.

    limiter = MemoryRateLimiter(rate=5.0, burst=20)
    wait = await limiter.acquire("user-1")      # 0.0: allowed

Per process: with N pods behind a load balancer a client gets up to N times the limit.
At most `max_keys` buckets are kept (least recently used evicted: an evicted bucket is full).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from common.ratelimit.base import take


class MemoryRateLimiter:
    def __init__(
        self, rate: float, burst: float, max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("rate and burst must be positive")
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, updated)

    async def acquire(self, key: str, cost: float = 1.0) -> float:
        now = self.clock()
        tokens, updated = self._buckets.pop(key, (self.burst, now))
        wait, left = take(tokens, updated, now, self.rate, self.burst, cost)
        self._buckets[key] = (left, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait

    async def aclose(self) -> None:
        return None
