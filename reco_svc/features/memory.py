"""The in-process feature store: the laptop default, and Redis's fallback while it is down.

    store = MemoryFeatureStore(max_bytes=64 * 2**20)
    await store.push_recent("user-1", "story-9")
    store.bytes                                      # estimated size of what it holds

Bounded in bytes, not in keys: one user may keep a few bytes or 200 events, so a bound in
users is either tiny or larger than the pod. Each entry carries a cheap estimate of its
size (string lengths plus fixed per-object overheads measured with tracemalloc; a test
holds the estimate to the real figure); past `max_bytes` the least recently used entries
go first. Expired entries (recent lists idle for `recent_ttl`, cache entries past their
TTL, counters whose buckets all aged out) are dropped by the first call after their
deadline, whatever key it is for (a heap of deadlines makes that O(1) when none is due),
rather than staying resident until the budget pushes them out.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence

from reco_svc.features.base import FeatureLimits, bucket_range

DEFAULT_MAX_BYTES = 64 * 2**20
# Fixed cost of one entry: its OrderedDict slot, key tuple and string header, _Entry, its
# expiry float, up to two deadline records and the value's container. These constants were
# fitted with tracemalloc on CPython 3.11 (within 10 % for 1 to 200 items per user).
ENTRY_BYTES = 480
# One recent item: string header (49) and its list slot (8 plus over-allocation).
ITEM_BYTES = 60
# One counter bucket (its dict slot and Counter) and one member in it (slot, float, header).
BUCKET_BYTES = 300
MEMBER_BYTES = 100
RECENT, CACHE, COUNTERS = "recent", "cache", "counters"


class _Entry:
    __slots__ = ("expires", "value", "size", "seq")

    def __init__(self, expires: float, value: object, size: int, seq: int) -> None:
        self.expires, self.value, self.size, self.seq = expires, value, size, seq


class MemoryFeatureStore:
    def __init__(
        self,
        limits: FeatureLimits | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits or FeatureLimits()
        self.max_bytes = max_bytes
        self.clock = clock
        self.bytes = 0  # the sum of the entries' estimated sizes
        # (kind, key) -> _Entry, least recently used first; one budget for all three kinds.
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        # (deadline, seq, key): one live record per entry; see _expire.
        self._deadlines: list[tuple[float, int, tuple[str, str]]] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._entries)

    async def push_recent(self, user: str, item: str) -> None:
        key = (RECENT, user)
        # An idle TTL: every push extends the list's life (Redis: EXPIRE after each LPUSH).
        expires = self.clock() + self.limits.recent_ttl
        entry = self._use(key) or self._add(key, [], ENTRY_BYTES + len(user), expires)
        entry.expires = expires
        items: list[str] = entry.value  # type: ignore[assignment]
        items.insert(0, item)
        dropped = items[self.limits.recent_keep :]
        del items[self.limits.recent_keep :]
        self._resize(entry, _items_size([item]) - _items_size(dropped))

    async def recent(self, user: str, limit: int = 100) -> list[str]:
        entry = self._use((RECENT, user))
        return [] if entry is None else entry.value[:limit]  # type: ignore[index]

    async def forget_recent(self, user: str) -> None:
        self._drop((RECENT, user))

    async def incr(self, name: str, member: str, amount: float = 1.0, at: float | None = None) -> None:
        now = self.clock() if at is None else at
        bucket = int(now // self.limits.bucket_seconds)
        # A name expires once its newest bucket is older than the retention.
        expires = (bucket + 1) * self.limits.bucket_seconds + self.limits.counter_retention
        key = (COUNTERS, name)
        entry = self._use(key) or self._add(key, {}, ENTRY_BYTES + len(name), expires)
        entry.expires = max(entry.expires, expires)
        buckets: dict[int, Counter] = entry.value  # type: ignore[assignment]
        grown = 0
        if bucket not in buckets:
            buckets[bucket] = Counter()
            grown += BUCKET_BYTES
        if member not in buckets[bucket]:
            grown += MEMBER_BYTES + len(member)
        buckets[bucket][member] += amount
        oldest = int((self.clock() - self.limits.counter_retention) // self.limits.bucket_seconds)
        for stale in [b for b in buckets if b < oldest]:
            grown -= _bucket_size(buckets.pop(stale))
        self._resize(entry, grown)

    async def top(
        self, name: str, window: float, limit: int = 10, now: float | None = None
    ) -> list[tuple[str, float]]:
        entry = self._use((COUNTERS, name))
        buckets: dict[int, Counter] = {} if entry is None else entry.value  # type: ignore[assignment]
        total: Counter = Counter()
        for bucket in bucket_range(window, self.limits.bucket_seconds, self.clock() if now is None else now):
            total.update(buckets.get(bucket, {}))
        return sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]

    async def get(self, key: str) -> bytes | None:
        entry = self._use((CACHE, key))
        return None if entry is None else entry.value  # type: ignore[return-value]

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        self._expire()
        # A fresh entry, not an update: a shorter TTL than before must get its own deadline.
        self._drop((CACHE, key))
        self._add((CACHE, key), value, ENTRY_BYTES + len(key) + len(value), self.clock() + ttl)
        self._evict()

    async def delete(self, key: str) -> None:
        self._drop((CACHE, key))

    async def erase(self, recent: Sequence[str] = (), cache: Sequence[str] = ()) -> int:
        keys = [(RECENT, user) for user in recent] + [(CACHE, key) for key in cache]
        present = sum(key in self._entries for key in keys)
        for key in keys:
            self._drop(key)
        return present

    async def forget_local(self, recent: Sequence[str] = (), cache: Sequence[str] = ()) -> None:
        await self.erase(recent, cache)

    async def aclose(self) -> None:
        return None

    def _use(self, key: tuple[str, str]) -> _Entry | None:
        """The live entry under key, now the most recently used; None if absent or expired."""
        self._expire()
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def _add(self, key: tuple[str, str], value: object, size: int, expires: float) -> _Entry:
        entry = self._entries[key] = _Entry(expires, value, size, next(self._seq))
        self.bytes += size
        heapq.heappush(self._deadlines, (expires, entry.seq, key))
        return entry

    def _resize(self, entry: _Entry, delta: int) -> None:
        entry.size += delta
        self.bytes += delta
        self._evict()

    def _drop(self, key: tuple[str, str]) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.bytes -= entry.size

    def _evict(self) -> None:
        while self.bytes > self.max_bytes and self._entries:
            _, entry = self._entries.popitem(last=False)
            self.bytes -= entry.size

    def _expire(self) -> None:
        """Drop entries whose deadline passed: O(1) when none did.

        An entry's record is pushed once; when the entry's life was extended meanwhile (a new
        push), the record goes back in with the new deadline. Records of entries already
        evicted or deleted are skipped, and the heap is rebuilt when they outnumber the
        entries, so it stays within twice the entries (counted in ENTRY_BYTES).
        """
        now = self.clock()
        heap = self._deadlines
        while heap and heap[0][0] <= now:
            _, seq, key = heapq.heappop(heap)
            entry = self._entries.get(key)
            if entry is None or entry.seq != seq:
                continue  # gone already, or replaced by a newer entry with its own record
            if entry.expires <= now:
                self._drop(key)
            else:
                heapq.heappush(heap, (entry.expires, seq, key))
        if len(heap) > 2 * len(self._entries) + 64:
            self._deadlines = [(e.expires, e.seq, k) for k, e in self._entries.items()]
            heapq.heapify(self._deadlines)


def _items_size(items: list[str]) -> int:
    return sum(ITEM_BYTES + len(item) for item in items)


def _bucket_size(counter: Counter) -> int:
    return BUCKET_BYTES + sum(MEMBER_BYTES + len(member) for member in counter)
