"""The client's event ids: time-ordered (UUIDv7), in creation order within a millisecond,
unique across threads, still increasing when the clock steps back or one millisecond holds
more ids than its counter."""

from __future__ import annotations

import threading
import time
import uuid

from storyverse_client.event_ids import new_event_id

from storyverse_client import event_ids


def _uuid(event_id: str) -> uuid.UUID:
    assert event_id.startswith("evt-") and len(event_id) == 36, event_id
    return uuid.UUID(hex=event_id[4:])


def test_ids_are_uuid7_stamped_with_the_time_they_were_made():
    before = time.time_ns() // 1_000_000
    made = _uuid(new_event_id())
    after = time.time_ns() // 1_000_000
    assert made.version == 7 and made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after + 1


def test_ids_sort_in_the_order_they_were_made_and_never_repeat():
    ids = [new_event_id() for _ in range(50_000)]  # many share a millisecond
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_ids_still_increase_when_the_clock_steps_back_or_stands_still(monkeypatch):
    now = [time.time_ns() + 10**12]  # ahead of every id made so far
    monkeypatch.setattr(event_ids.time, "time_ns", lambda: now[0])
    for name in ("_last_ms", "_counter"):  # restored after the test: later ids carry the real time
        monkeypatch.setattr(event_ids, name, getattr(event_ids, name))
    ids = [new_event_id() for _ in range(5_000)]  # more than one millisecond's 4,096
    now[0] -= 60 * 10**9  # the clock steps a minute back
    ids += [new_event_id() for _ in range(10)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    stamps = [_uuid(i).int >> 80 for i in ids]
    assert stamps[0] == now[0] // 1_000_000 + 60_000 and stamps[-1] == stamps[0] + 1  # borrowed one ms


def test_threads_get_distinct_ids():
    made: list[list[str]] = [[] for _ in range(4)]

    def make(out: list[str]) -> None:
        out.extend(new_event_id() for _ in range(10_000))

    threads = [threading.Thread(target=make, args=(out,)) for out in made]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({i for out in made for i in out}) == 40_000
    assert all(out == sorted(out) for out in made)
