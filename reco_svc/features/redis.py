"""The Redis feature store (redis-py asyncio), shared by every pod of the cluster profile.

    store = RedisFeatureStore("redis://redis:6379/0", timeout=0.25, retry_after=5.0)
    await store.push_recent("user-1", "story-9")

Keys (prefix `sv:f:`): `recent:<user>` a list (LPUSH + LTRIM + EXPIRE in one MULTI),
`count:<name>:<bucket>` a sorted set per time bucket (ZINCRBY, expiring after the
retention), `cache:<key>` a string with PX. `top` sums a window's buckets with ZUNIONSTORE
into a short-lived key and reads the best members from it.

When Redis does not answer within the timeout, or is refused, callers get the in-process
store's answer (memory.py) and one warning is logged; Redis is asked again
after `retry_after` seconds. Writes made meanwhile are kept (up to REPLAY_LIMIT) and sent once
Redis answers again, so the other replicas see them too: every missed `push_recent` (a
repeated item is ignored on read: items carry their event id), and the `incr`s that surely
never reached Redis (a timed-out ZINCRBY may still have run: counting it twice is worse than
missing it). Erasing a user drops the user's kept writes.
`erase` is the exception: it asks Redis whatever the breaker says and raises on failure.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence

from common import metrics
from common.redis_guard import RedisGuard, connect
from reco_svc.features.base import FeatureLimits, bucket_range
from reco_svc.features.memory import MemoryFeatureStore

# Writes kept while Redis is away, at most (~200 bytes each); the oldest go first beyond.
REPLAY_LIMIT = 50_000
REPLAY_CHUNK = 500
# A kept write: ("recent", user, item) or ("incr", key, member, amount, expires at).
Write = tuple


class RedisFeatureStore:
    def __init__(
        self,
        url: str,
        timeout: float = 0.25,
        retry_after: float = 5.0,
        limits: FeatureLimits | None = None,
        prefix: str = "sv:f:",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits or FeatureLimits()
        self.prefix = prefix
        self.clock = clock
        self.client = connect(url, timeout)
        self.guard = RedisGuard("features", timeout, retry_after)
        self.fallback = MemoryFeatureStore(self.limits, clock=clock)
        self.unsent: deque[Write] = deque()
        self._replay: asyncio.Task | None = None
        self.guard.on_recovered.append(self._recovered)

    async def push_recent(self, user: str, item: str) -> None:
        write = ("recent", user, item)

        async def call() -> None:
            async with self.client.pipeline(transaction=True) as pipe:
                self._queue(pipe, write)
                await pipe.execute()

        await self.guard.run(
            "LPUSH", call, lambda: self.fallback.push_recent(user, item), lambda _sure: self._keep(write)
        )

    async def recent(self, user: str, limit: int = 100) -> list[str]:
        async def call() -> list[str]:
            items = await self.client.lrange(f"{self.prefix}recent:{user}", 0, limit - 1)
            return [item.decode() for item in items]

        return await self.guard.run("LRANGE", call, lambda: self.fallback.recent(user, limit))

    async def forget_recent(self, user: str) -> None:
        await self.fallback.forget_recent(user)  # also forget what an outage left in memory
        self.drop_kept([user])
        await self.guard.run("DEL", lambda: self.client.delete(f"{self.prefix}recent:{user}"), _nothing)

    async def incr(self, name: str, member: str, amount: float = 1.0, at: float | None = None) -> None:
        now = self.clock() if at is None else at
        bucket = int(now // self.limits.bucket_seconds)
        key = f"{self.prefix}count:{name}:{bucket}"
        expires = int((bucket + 1) * self.limits.bucket_seconds + self.limits.counter_retention)
        write = ("incr", key, member, amount, expires)

        async def call() -> None:
            async with self.client.pipeline(transaction=True) as pipe:
                self._queue(pipe, write)
                await pipe.execute()

        def unsent(sure: bool) -> None:
            if sure:
                self._keep(write)

        await self.guard.run("ZINCRBY", call, lambda: self.fallback.incr(name, member, amount, now), unsent)

    async def top(
        self, name: str, window: float, limit: int = 10, now: float | None = None
    ) -> list[tuple[str, float]]:
        now = self.clock() if now is None else now
        keys = [
            f"{self.prefix}count:{name}:{b}" for b in bucket_range(window, self.limits.bucket_seconds, now)
        ]
        scratch = f"{self.prefix}tmp:{uuid.uuid4().hex}"

        async def call() -> list[tuple[str, float]]:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.zunionstore(scratch, keys)
                pipe.zrange(scratch, 0, limit - 1, desc=True, withscores=True)
                pipe.delete(scratch)
                _, best, _ = await pipe.execute()
            # Ties in name order, as the memory store does, so both backends answer alike.
            return sorted(((m.decode(), float(s)) for m, s in best), key=lambda kv: (-kv[1], kv[0]))

        return await self.guard.run("ZUNIONSTORE", call, lambda: self.fallback.top(name, window, limit, now))

    async def get(self, key: str) -> bytes | None:
        return await self.guard.run(
            "GET", lambda: self.client.get(f"{self.prefix}cache:{key}"), lambda: self.fallback.get(key)
        )

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        await self.guard.run(
            "SET",
            lambda: self.client.set(f"{self.prefix}cache:{key}", value, px=max(1, int(ttl * 1000))),
            lambda: self.fallback.set(key, value, ttl),
        )

    async def delete(self, key: str) -> None:
        await self.fallback.delete(key)  # also forget what an outage left in memory
        await self.guard.run("DEL", lambda: self.client.delete(f"{self.prefix}cache:{key}"), _nothing)

    async def erase(self, recent: Sequence[str] = (), cache: Sequence[str] = ()) -> int:
        await self.fallback.erase(recent, cache)
        self.drop_kept(recent)
        keys = [f"{self.prefix}recent:{user}" for user in recent] + [
            f"{self.prefix}cache:{key}" for key in cache
        ]
        if not keys:
            return 0
        # Not through the guard: an open breaker or a fallback must not pass for an erasure.
        # Within the same deadline, so a hung Redis fails the step (retried) instead of hanging.
        async with asyncio.timeout(self.guard.timeout):
            return int(await self.client.delete(*keys))

    async def aclose(self) -> None:
        if self._replay is not None:
            self._replay.cancel()
        await self.client.aclose()

    # --- writes kept while Redis was away -------------------------------------------------

    def _queue(self, pipe, write: Write) -> None:
        if write[0] == "recent":
            key = f"{self.prefix}recent:{write[1]}"
            pipe.lpush(key, write[2])
            pipe.ltrim(key, 0, self.limits.recent_keep - 1)
            pipe.expire(key, int(self.limits.recent_ttl))
        else:
            _, key, member, amount, expires = write
            pipe.zincrby(key, amount, member)
            pipe.expireat(key, expires)

    def _keep(self, write: Write) -> None:
        self.unsent.append(write)
        if len(self.unsent) > REPLAY_LIMIT:
            self.unsent.popleft()
            metrics.REDIS_REPLAYED.add(1, {"store": "features", "outcome": "dropped"})

    async def forget_local(self, recent: Sequence[str] = (), cache: Sequence[str] = ()) -> None:
        await self.fallback.erase(recent, cache)
        self.drop_kept(recent)

    def drop_kept(self, users: Sequence[str]) -> None:
        """Erasure: the kept writes of these users never reach Redis."""
        gone = set(users)
        if gone and self.unsent:
            self.unsent = deque(w for w in self.unsent if not (w[0] == "recent" and w[1] in gone))

    def _recovered(self) -> None:
        if self.unsent and (self._replay is None or self._replay.done()):
            self._replay = asyncio.get_running_loop().create_task(self._send_kept())

    async def _send_kept(self) -> None:
        """The kept writes, oldest first, in pipelines; on a failure the rest waits for the next
        recovery (a timed-out chunk keeps only its idempotent pushes)."""
        while self.unsent:
            chunk = [self.unsent.popleft() for _ in range(min(REPLAY_CHUNK, len(self.unsent)))]

            async def call(chunk=chunk) -> bool:
                async with self.client.pipeline(transaction=False) as pipe:
                    for write in chunk:
                        self._queue(pipe, write)
                    await pipe.execute()
                return True

            def unsent(sure: bool, chunk=chunk) -> None:
                back = chunk if sure else [w for w in chunk if w[0] == "recent"]
                self.unsent.extendleft(reversed(back))
                if len(back) < len(chunk):
                    dropped = {"store": "features", "outcome": "dropped"}
                    metrics.REDIS_REPLAYED.add(len(chunk) - len(back), dropped)

            if not await self.guard.run("REPLAY", call, _false, unsent):
                return
            metrics.REDIS_REPLAYED.add(len(chunk), {"store": "features", "outcome": "sent"})


async def _nothing() -> None:
    return None


async def _false() -> bool:
    return False
