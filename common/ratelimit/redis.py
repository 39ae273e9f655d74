"""The Redis rate limiter: one bucket per key for the whole cluster, updated atomically in Lua.

    limiter = RedisRateLimiter("redis://redis:6379/0", rate=5.0, burst=20)
    wait = await limiter.acquire("api-key:abc")     # 0.0: allowed

The script reads the bucket, refills it by the time elapsed on Redis's clock (TIME, so
pods' clocks do not matter), takes the tokens if there are enough, writes it back and
sets it to expire once it would be full again anyway: one round trip, no race between pods.
When Redis is unreachable the in-process limiter answers (per pod: see memory.py) and one
warning is logged; Redis is asked again after `retry_after` seconds.
"""

from __future__ import annotations

from common.ratelimit.memory import MemoryRateLimiter
from common.redis_guard import RedisGuard, connect

# KEYS[1] bucket; ARGV rate, burst, cost. Returns the wait in seconds as a string (a Lua number
# would come back truncated to an integer).
TOKEN_BUCKET = """
local rate, burst, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
cost = math.min(cost, burst)
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens, updated = tonumber(state[1]), tonumber(state[2])
if tokens == nil then tokens, updated = burst, now end
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local wait = (cost - tokens) / rate
if tokens >= cost then
  tokens, wait = tokens - cost, 0
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisRateLimiter:
    def __init__(
        self,
        url: str,
        rate: float,
        burst: float,
        timeout: float = 0.25,
        retry_after: float = 5.0,
        prefix: str = "sv:rl:",
    ) -> None:
        self.fallback = MemoryRateLimiter(rate, burst)  # also checks rate and burst
        self.rate = rate
        self.burst = burst
        self.prefix = prefix
        self.client = connect(url, timeout)
        self.script = self.client.register_script(TOKEN_BUCKET)
        self.guard = RedisGuard("ratelimit", timeout, retry_after)

    async def acquire(self, key: str, cost: float = 1.0) -> float:
        async def call() -> float:
            return float(await self.script(keys=[self.prefix + key], args=[self.rate, self.burst, cost]))

        return await self.guard.run("EVALSHA", call, lambda: self.fallback.acquire(key, cost))

    async def aclose(self) -> None:
        await self.client.aclose()
