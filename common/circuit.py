"""A circuit breaker for optional dependencies (Redis): fail once, then stop asking for a while.

    breaker = CircuitBreaker("redis features", retry_after=5.0)
    if breaker.allows():
        try:
            value = await call()
            breaker.succeeded()
        except ConnectionError:
            breaker.failed()        # logs once per outage, not once per call
            value = fallback()

Closed: every call goes through. One failure opens it: for `retry_after` seconds calls go
straight to the fallback (no waiting on a dead server's timeout). Then one call is let
through to try again (half open); its success closes the breaker, its failure re-opens it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class CircuitBreaker:
    def __init__(
        self, name: str, retry_after: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.name = name
        self.retry_after = retry_after
        self.clock = clock
        self.open_until: float | None = None
        self._trial_running = False

    @property
    def is_open(self) -> bool:
        return self.open_until is not None

    def allows(self) -> bool:
        if self.open_until is None:
            return True
        if self.clock() < self.open_until or self._trial_running:
            return False
        self._trial_running = True  # half open: exactly one call tries the dependency
        return True

    def succeeded(self) -> None:
        if self.open_until is not None:
            log.warning("dependency is back", extra={"fields": {"dependency": self.name}})
        self.open_until = None
        self._trial_running = False

    def failed(self, error: BaseException | None = None) -> None:
        if self.open_until is None:
            log.warning(
                "dependency unavailable: degrading until it answers again",
                extra={
                    "fields": {"dependency": self.name, "error": repr(error), "retry_after": self.retry_after}
                },
            )
        self.open_until = self.clock() + self.retry_after
        self._trial_running = False
