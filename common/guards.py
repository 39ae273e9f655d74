"""The guards of one service process, built from the settings (see common/limits.py)."""

from __future__ import annotations

import asyncpg

from common.auth import Authenticator, KeyStore
from common.limits import Guard, access_guard, concurrency_guard, deadline_guard, rate_guard
from common.ratelimit import create_rate_limiter
from common.settings import Settings


def build_guards(settings: Settings, pool: asyncpg.Pool) -> list[Guard]:
    guards = [access_guard(Authenticator(KeyStore(pool), settings))]
    if settings.rate_limit_per_second > 0:
        # Redis when configured (cluster branch), so replicas share one bucket per key.
        limiter = create_rate_limiter(settings, settings.rate_limit_per_second, settings.rate_limit_burst)
        guards.append(rate_guard(limiter))
    if settings.max_concurrent_calls > 0:
        guards.append(concurrency_guard(settings.max_concurrent_calls))
    guards.append(deadline_guard(settings.max_call_seconds))
    return guards
