"""FeatureStore, what both backends offer: recent selections, bucketed counters, a TTL cache.

    store = create_feature_store(settings)          # Redis when SV_REDIS_URL is set
    await store.push_recent("user-1", "story-9")     # newest first, capped, expires when idle
    await store.recent("user-1", limit=20)           # ["story-9", ...]
    await store.forget_recent("user-1")              # the list is gone (best effort)
    await store.erase(["user-1"], ["reco:user-1"])   # erasure: gone from every copy, or it raises
    await store.incr("trending", "story-9")          # counted in the current time bucket
    await store.top("trending", window=86400, limit=10)   # [("story-9", 12.0), ...]
    await store.set("reco:user-1", payload, ttl=300)
    await store.get("reco:user-1")                   # bytes or None once expired
    await store.aclose()

Everything here is derived data: losing it costs freshness, never correctness. That is
why the Redis backend degrades to an in-process store instead of failing its callers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class FeatureLimits:
    # Recent selections kept per user, and how long an untouched list lives.
    recent_keep: int = 100
    recent_ttl: float = 30 * 86400
    # Counters: bucket width and how long buckets are kept (the longest `top` window).
    bucket_seconds: int = 3600
    counter_retention: float = 8 * 86400


class FeatureStore(Protocol):
    async def push_recent(self, user: str, item: str) -> None: ...

    async def recent(self, user: str, limit: int = 100) -> list[str]: ...

    async def forget_recent(self, user: str) -> None:
        """Drop the user's recent selections (erasure)."""
        ...

    async def incr(self, name: str, member: str, amount: float = 1.0, at: float | None = None) -> None: ...

    async def top(
        self, name: str, window: float, limit: int = 10, now: float | None = None
    ) -> list[tuple[str, float]]: ...

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def erase(self, recent: Sequence[str] = (), cache: Sequence[str] = ()) -> int:
        """Erasure: these users' recent lists and these cache entries go from every copy the store
        keeps (Redis and its in-process fallback); returns how many existed. Unlike the calls
        above it never answers from a fallback: it raises when Redis does not confirm."""
        ...

    async def forget_local(self, recent: Sequence[str] = (), cache: Sequence[str] = ()) -> None:
        """Erasure in this process only: what it holds of these keys (in process: everything;
        Redis: its fallback's copies and the writes it keeps for Redis)."""
        ...

    async def aclose(self) -> None: ...


def bucket_range(window: float, bucket_seconds: int, now: float) -> range:
    """Bucket numbers covering the last `window` seconds up to now (the current bucket included)."""
    last = int(now // bucket_seconds)
    first = int((now - window) // bucket_seconds) + 1
    return range(min(first, last), last + 1)
