"""What a rate limiter offers (stand-in until the cluster branch's limiter lands).

    wait = await limiter.acquire("key-id")   # 0.0: go ahead; > 0: refused, retry after that many s

A backend decides where the buckets live: this process (memory.py) or Redis.
"""

from __future__ import annotations

from typing import Protocol


class RateLimiter(Protocol):
    async def acquire(self, key: str, cost: float = 1.0) -> float: ...

    async def aclose(self) -> None: ...
