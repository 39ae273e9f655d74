"""`Tracker`: queue events, send them in batches from a background thread, retry, flush at exit.

    tracker = Tracker(HttpTransport("http://127.0.0.1:8080"))
    tracker.track("story_started", user_id="user-789012", properties={"story_id": "story-1"})
    tracker.flush()        # optional: close() (and the interpreter's exit) flush too

- Every event gets its event_id when queued (time-ordered: event_ids.py); a retry sends the
  same ids, so an event the service stored before the connection broke comes back as a
  duplicate, never a second count.
- Retries: connection errors, 429 / RESOURCE_EXHAUSTED, 503 / UNAVAILABLE, 504 and the like,
  with exponential back-off (jittered) and never sooner than the server's `retry-after`, for
  up to `retry_for` seconds per batch; then the batch is dropped and reported.
- Memory is bounded: at most `max_queue` events wait; beyond that `track` drops the new event
  (and returns None). What is dropped, and why, is counted in `stats` and passed to `on_drop`
  (and logged): "queue full", "not JSON" (a value JSON cannot hold), "refused: ..." (the
  batch was refused as a whole: the event it names, else all of it), "gave up: ..." (retries
  exhausted), "not sent before close".
- Events the service rejects one by one (invalid fields) are not dropped: the service keeps
  them in its failed-events table; `stats.rejected` counts them, `stats.rejections` keeps the last.
"""

from __future__ import annotations

import atexit
import json
import logging
import random
import re
import threading
import time
import weakref
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from storyverse_client.event_ids import new_event_id
from storyverse_client.transport import SendError

log = logging.getLogger("storyverse_client")
_EVENT_PATH = re.compile(r"events\[(\d+)\]")

MAX_BATCH = 1000  # the contract's limit on one RecordEvents call
KEPT_REJECTIONS = 100


class EventTransport(Protocol):
    def record_events(self, events: list[dict]) -> dict: ...


@dataclass
class TrackerStats:
    queued: int = 0  # waiting now (not counting the batch being sent)
    accepted: int = 0  # stored by this tracker's calls
    duplicates: int = 0  # already stored (a retry of a batch whose answer was lost)
    rejected: int = 0  # invalid, kept by the service in its failed-events table
    dropped: int = 0  # never acknowledged: see drop_reasons
    retries: int = 0
    drop_reasons: Counter = field(default_factory=Counter)
    rejections: list[dict] = field(default_factory=list)


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Tracker:
    def __init__(
        self,
        transport: EventTransport,
        *,
        batch_size: int = 100,
        flush_interval: float = 1.0,
        max_queue: int = 10_000,
        retry_for: float = 600.0,
        backoff: tuple[float, float] = (0.2, 10.0),
        on_drop: Callable[[list[dict], str], None] | None = None,
        flush_at_exit: bool = True,
        exit_timeout: float = 10.0,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}")
        self.transport = transport
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_queue = max_queue
        self.retry_for = retry_for
        self.backoff = backoff
        self.on_drop = on_drop
        self._queue: deque[dict] = deque()
        self._cond = threading.Condition()
        self._stats = TrackerStats()
        self._enqueued = 0  # events ever queued
        self._settled = 0  # of those: acknowledged or dropped
        self._flush_to = 0  # send without waiting for a full batch until _settled reaches this
        self._closing = False
        self._close_deadline = float("inf")
        self._first_at = 0.0  # when the oldest queued event arrived
        self._thread = threading.Thread(target=self._run, name="storyverse-tracker", daemon=True)
        self._thread.start()
        if flush_at_exit:
            this = weakref.ref(self)
            self._exit_hook = lambda: (t := this()) is not None and t.close(exit_timeout)
            atexit.register(self._exit_hook)

    # ------------------------------------------------------------ callers' side

    def track(
        self,
        event_type: str,
        user_id: str,
        *,
        properties: dict[str, Any] | None = None,
        session_id: str | None = None,
        timestamp: str | None = None,
        event_id: str | None = None,
    ) -> str | None:
        """Queue one event; its event_id, or None when it was dropped (queue full, closed)."""
        event: dict[str, Any] = {
            "event_id": event_id or new_event_id(),
            "user_id": user_id,
            "timestamp": timestamp or now_rfc3339(),
            "event_type": event_type,
        }
        if session_id:
            event["session_id"] = session_id
        if properties:
            event["properties"] = properties
        return event["event_id"] if self.enqueue(event) else None

    def enqueue(self, event: dict) -> bool:
        """Queue an event written as the contract's JSON (an event_id is added when missing)."""
        event.setdefault("event_id", new_event_id())
        try:  # refused here, alone, rather than failing its whole batch later
            json.dumps(event, allow_nan=False)
        except (TypeError, ValueError) as exc:
            self._dropped([event], f"not JSON: {exc}", settled=False)
            return False
        with self._cond:
            if self._closing:
                reason = "tracker closed"
            elif len(self._queue) >= self.max_queue:
                reason = "queue full"
            else:
                self._queue.append(event)
                self._enqueued += 1
                if len(self._queue) == 1:
                    self._first_at = time.monotonic()  # the flush interval runs from here
                    self._cond.notify_all()
                elif len(self._queue) >= self.batch_size:
                    self._cond.notify_all()
                return True
        self._dropped([event], reason, settled=False)
        return False

    def flush(self, timeout: float | None = None) -> bool:
        """Send what is queued now; True when all of it was acknowledged or dropped in time."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            target = self._enqueued
            self._flush_to = max(self._flush_to, target)
            self._cond.notify_all()
            while self._settled < target:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def close(self, timeout: float | None = 10.0) -> bool:
        """Flush, then stop the thread; what is still unsent after `timeout` is dropped.
        True when every queued event was acknowledged (none dropped meanwhile)."""
        with self._cond:
            dropped_before = self._stats.dropped
            if not self._closing:
                self._closing = True
                self._close_deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
                self._flush_to = self._enqueued
            self._cond.notify_all()
        self._thread.join(None if timeout is None else timeout + 5.0)
        if hasattr(self, "_exit_hook"):
            atexit.unregister(self._exit_hook)
        with self._cond:
            done = self._settled >= self._enqueued and not self._thread.is_alive()
            return done and self._stats.dropped == dropped_before

    @property
    def stats(self) -> TrackerStats:
        with self._cond:
            copy = TrackerStats(**{**self._stats.__dict__})
            copy.queued = len(self._queue)
            copy.drop_reasons = Counter(self._stats.drop_reasons)
            copy.rejections = list(self._stats.rejections)
            return copy

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ the sending thread

    def _run(self) -> None:
        while True:
            with self._cond:
                batch = self._next_batch()
                if batch is None:
                    return
            self._deliver(batch)

    def _next_batch(self) -> list[dict] | None:
        """Wait (holding the condition) for a batch worth sending; None when closed and empty."""
        while True:
            queued = len(self._queue)
            now = time.monotonic()
            if queued:
                due = self._first_at + self.flush_interval
                if queued >= self.batch_size or self._closing or self._settled < self._flush_to or now >= due:
                    return [self._queue.popleft() for _ in range(min(queued, self.batch_size))]
                self._cond.wait(due - now)
            elif self._closing:
                return None
            else:
                self._cond.wait()

    def _deliver(self, batch: list[dict]) -> None:
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                result = self.transport.record_events(batch)
            except SendError as exc:
                error = exc
            except Exception as exc:  # noqa: BLE001 - a transport's bug must not stop the sender
                log.exception("sending %d events failed unexpectedly", len(batch))
                self._dropped(batch, f"failed: {exc!r}")
                return
            else:
                self._acknowledged(batch, result)
                return
            if not error.retryable:
                culprit = _culprit(error, len(batch))
                if culprit is None:
                    self._dropped(batch, f"refused: {error.message}")
                    return
                # One event's JSON does not fit the contract: drop it alone, send the others.
                self._dropped([batch[culprit]], f"refused: {error.message}")
                batch = batch[:culprit] + batch[culprit + 1 :]
                if not batch:
                    return
                continue
            attempt += 1
            low, high = self.backoff
            delay = min(high, low * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
            if error.retry_after is not None:
                delay = max(delay, error.retry_after)
            with self._cond:
                give_up = time.monotonic() + delay > min(started + self.retry_for, self._close_deadline)
                if not give_up:
                    self._stats.retries += 1
            if give_up:
                reason = "not sent before close" if self._closing else f"gave up: {error.message}"
                self._dropped(batch, reason)
                return
            log.info("sending %d events failed (%s); retrying in %.1f s", len(batch), error.message, delay)
            until = time.monotonic() + delay
            with self._cond:  # a close() shortens the wait to its deadline
                self._cond.wait_for(lambda u=until: time.monotonic() >= min(u, self._close_deadline), delay)

    def _acknowledged(self, batch: list[dict], result: dict) -> None:
        with self._cond:
            s = self._stats
            s.accepted += int(result.get("accepted", 0))
            s.duplicates += int(result.get("duplicates", 0))
            s.rejected += int(result.get("rejected", 0))
            s.rejections = (s.rejections + list(result.get("rejections", [])))[-KEPT_REJECTIONS:]
            self._settled += len(batch)
            self._cond.notify_all()

    def _dropped(self, events: list[dict], reason: str, settled: bool = True) -> None:
        with self._cond:
            self._stats.dropped += len(events)
            self._stats.drop_reasons[reason.split(":")[0]] += len(events)
            if settled:
                self._settled += len(events)
                self._cond.notify_all()
        log.warning("storyverse_client dropped %d events: %s", len(events), reason)
        if self.on_drop is not None:
            try:
                self.on_drop(events, reason)
            except Exception:  # noqa: BLE001 - a caller's callback must not stop the sender
                log.exception("on_drop callback failed")


def _culprit(error: SendError, size: int) -> int | None:
    """The position of the one event a refused batch names (`events[3].properties...`), if any."""
    for text in [*(d.get("field", "") for d in error.details), error.message]:
        if match := _EVENT_PATH.search(text):
            index = int(match[1])
            return index if index < size else None
    return None
