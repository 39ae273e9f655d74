"""The in-process feature store: the laptop default, and Redis's fallback while it is down.

    store = MemoryFeatureStore()
    await store.push_recent("user-1", "story-9")

Per process and bounded: at most `max_keys` users, cache entries and counter names each
(least recently used go first), so a long Redis outage cannot grow memory without end.
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict
from collections.abc import Callable

from common.features.base import FeatureLimits, bucket_range


class _Lru(OrderedDict):
    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity

    def touch(self, key, default_factory):
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = default_factory()
        while len(self) > self.capacity:
            self.popitem(last=False)
        return value


class MemoryFeatureStore:
    def __init__(
        self,
        limits: FeatureLimits | None = None,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits or FeatureLimits()
        self.clock = clock
        self._recent: _Lru = _Lru(max_keys)  # user -> [expires_at, [items newest first]]
        self._cache: _Lru = _Lru(max_keys)  # key -> (expires_at, value)
        self._counters: _Lru = _Lru(max_keys)  # name -> {bucket: Counter}

    async def push_recent(self, user: str, item: str) -> None:
        entry = self._recent.touch(user, lambda: [0.0, []])
        if entry[0] <= self.clock():
            entry[1] = []
        entry[1].insert(0, item)
        del entry[1][self.limits.recent_keep :]
        entry[0] = self.clock() + self.limits.recent_ttl

    async def recent(self, user: str, limit: int = 100) -> list[str]:
        entry = self._recent.get(user)
        if entry is None or entry[0] <= self.clock():
            return []
        return entry[1][:limit]

    async def incr(self, name: str, member: str, amount: float = 1.0, at: float | None = None) -> None:
        now = self.clock() if at is None else at
        buckets: dict[int, Counter] = self._counters.touch(name, dict)
        bucket = int(now // self.limits.bucket_seconds)
        buckets.setdefault(bucket, Counter())[member] += amount
        oldest = int((self.clock() - self.limits.counter_retention) // self.limits.bucket_seconds)
        for stale in [b for b in buckets if b < oldest]:
            del buckets[stale]

    async def top(
        self, name: str, window: float, limit: int = 10, now: float | None = None
    ) -> list[tuple[str, float]]:
        buckets = self._counters.get(name, {})
        total: Counter = Counter()
        for bucket in bucket_range(window, self.limits.bucket_seconds, self.clock() if now is None else now):
            total.update(buckets.get(bucket, {}))
        return sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]

    async def get(self, key: str) -> bytes | None:
        entry = self._cache.get(key)
        if entry is None:
            return None
        if entry[0] <= self.clock():
            del self._cache[key]
            return None
        return entry[1]

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        self._cache.touch(key, lambda: None)
        self._cache[key] = (self.clock() + ttl, value)

    async def delete(self, key: str) -> None:
        self._cache.pop(key, None)

    async def aclose(self) -> None:
        return None
