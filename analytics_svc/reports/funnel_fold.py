"""Funnels folded in numpy over the per-user-day event sequences (user_day_sequences,
written by the nightly rollup; raw events give the same rows for days not rolled up).

Same semantics as the SQL of queries/funnels.py (docs/analytics.md, "funnel"), vectorised
over all users at once: events of all users are concatenated (per user in stream order),
every step-1 event of the range is an attempt, and each next step is found by an index
lookup: "ordered" through a suffix minimum per step (the first later event matching
the step), "strict" as the very next event of the (filtered) stream.

Steps with property conditions, and breakdowns by properties the sequence does not
hold (feature, theme, universe), are not answerable here: `answerable()` says so and
the caller runs the raw-event query instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from analytics_svc.queries import codes
from analytics_svc.requests import Filters, Step

# As stored (queries/sequences.py): type code, context code, position in the day's stream, µs.
EVENT = np.dtype([("type", "u1"), ("ctx", ">u2"), ("pos", ">i4"), ("us", ">i8")])
_DIM_BREAKDOWNS = ("age_group", "platform", "device_type")
_NONE = np.iinfo(np.int64).max


def answerable(steps: Sequence[Step], breakdown: str, filters: Filters) -> bool:
    if any(s.conditions or codes.code_of(s.event_type) is None for s in steps):
        return False
    if breakdown not in ("", "event_type", *_DIM_BREAKDOWNS):
        return False
    return all(codes.dimension_code(name, getattr(filters, name)) is not None for name in codes.DIMENSIONS)


def micros(ts: datetime) -> int:
    return (ts - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def events_of(rows: Sequence[tuple[str, int, int, bytes]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The events of (user_id, day, events of the day, seq) rows in stream order per user
    (days ascending, then the stored positions), a user number per event and its slot: its
    index in the full stream of all the rows' events (every type), so that two events
    are adjacent in that stream when their slots differ by one. A row may hold only some
    of the day's events (some types): the positions still order them."""
    n = len(rows)
    # Plain list comprehensions: the cheapest way through 250,000 asyncpg records.
    users = [r[0] for r in rows]
    numbers = dict(zip(dict.fromkeys(users), range(n), strict=False))
    user_of_row = np.fromiter(map(numbers.__getitem__, users), np.int64, n)
    day_of_row = np.array([r[1] for r in rows], dtype=np.int64)
    full = np.array([r[2] for r in rows], dtype=np.int64)
    seqs = [r[3] for r in rows]
    events = np.frombuffer(b"".join(seqs), dtype=EVENT)
    held = np.fromiter(map(len, seqs), np.int64, n) // EVENT.itemsize
    row_of_event = np.repeat(np.arange(n, dtype=np.int64), held)
    # Rows by user, then day; each row owns `full` slots from its start, an event sits in
    # slot start + position: placing events in their slots sorts them without a sort.
    order = np.lexsort((day_of_row, user_of_row))
    start = np.empty(n, dtype=np.int64)
    start[order] = np.cumsum(full[order]) - full[order]
    slot = start[row_of_event] + events["pos"].astype(np.int64)
    placed = np.full(int(full.sum()), -1, dtype=np.int64)
    placed[slot] = np.arange(events.size, dtype=np.int64)
    index = placed[placed >= 0]
    return events[index], user_of_row[row_of_event[index]], slot[index]


def _percentile_cont(values: np.ndarray, q: float) -> float | None:
    """As PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    if values.size == 0:
        return None
    ordered = np.sort(values)
    pos = q * (ordered.size - 1)
    low = int(np.floor(pos))
    high = min(low + 1, ordered.size - 1)
    a, b = float(ordered[low]), float(ordered[high])
    return a + (b - a) * (pos - low)


def fold(
    events: np.ndarray,
    user: np.ndarray,
    slot: np.ndarray,
    steps: Sequence[Step],
    order: str,
    breakdown: str,
    filters: Filters,
    lo: datetime,
    hi: datetime,
    window_seconds: int,
) -> list[dict]:
    """One dict per breakdown group (sorted): {"group", "steps": [(users, median_prev, median_first)]}."""
    lo_us, hi_us = micros(lo), micros(hi)
    window = window_seconds * 1_000_000
    step_codes = [codes.code_of(s.event_type) for s in steps]
    if order == "ordered":  # other events can never be a step: drop them first
        is_step = np.zeros(256, dtype=bool)
        is_step[step_codes] = True
        first = is_step[events["type"]]
        events, user, slot = events[first], user[first], slot[first]
    types = events["type"]
    ctx = events["ctx"].astype(np.int64)
    ts = events["us"].astype(np.int64)
    keep = (ts >= lo_us) & (ts <= hi_us + window)
    for name, shift in codes.SHIFTS.items():
        value = getattr(filters, name)
        if value:
            keep &= ((ctx >> shift) & 7) == codes.dimension_code(name, value)
    types, ctx, ts, user, slot = types[keep], ctx[keep], ts[keep], user[keep], slot[keep]
    # Strict: the next event of the stream. Without dimension filters the stream is every
    # event, and the caller may have read only the steps' types: adjacency is then told by
    # the slots. With filters, every event was read and the filtered array is the stream.
    by_slot = not any(getattr(filters, name) for name in codes.SHIFTS)
    n_events = types.size
    positions = np.arange(n_events, dtype=np.int64)
    matches = [types == c for c in step_codes]

    attempts = np.flatnonzero(matches[0] & (ts >= lo_us) & (ts < hi_us))
    if attempts.size == 0:
        return []
    a_user, a_ts = user[attempts], ts[attempts]
    cur = attempts.copy()
    alive = np.ones(attempts.size, dtype=bool)
    times = [a_ts]
    for k in range(1, len(steps)):
        if order == "ordered":
            # First event after each position that matches step k (n_events: none).
            idx = np.where(matches[k], positions, n_events)
            first_from = np.minimum.accumulate(idx[::-1])[::-1]
            after = np.append(first_from[1:], n_events)
            nxt = after[cur]
        else:
            nxt = cur + 1
        safe = np.minimum(nxt, n_events - 1)
        ok = alive & (nxt < n_events) & (user[safe] == a_user) & (ts[safe] - a_ts <= window)
        if order != "ordered":
            ok &= matches[k][safe]
            if by_slot:
                ok &= slot[safe] == slot[cur] + 1
        alive = ok
        cur = np.where(ok, safe, cur)
        times.append(np.where(ok, ts[safe], _NONE))
    reached = np.ones(attempts.size, dtype=np.int64)
    for t in times[1:]:
        reached += t != _NONE

    if breakdown in _DIM_BREAKDOWNS:
        group_code = (ctx[attempts] >> codes.SHIFTS[breakdown]) & 7
        names = {
            c: codes.dimension_value(breakdown, int(c)) for c in np.unique(group_code) if c != codes.UNKNOWN
        }
        if len(names) < np.unique(group_code).size:
            raise UnknownValue(breakdown)
    else:
        group_code = np.zeros(attempts.size, dtype=np.int64)
        names = {0: steps[0].event_type if breakdown == "event_type" else ""}

    # Per (user, group): the attempt reaching furthest, the earliest (stream order) on ties.
    pick = np.lexsort((attempts, -reached, group_code, a_user))
    su, sg = a_user[pick], group_code[pick]
    first_of_run = np.ones(pick.size, dtype=bool)
    first_of_run[1:] = (su[1:] != su[:-1]) | (sg[1:] != sg[:-1])
    best = pick[first_of_run]

    groups = []
    for code, name in sorted(names.items(), key=lambda kv: kv[1]):
        chosen = best[group_code[best] == code]
        if chosen.size == 0:
            continue
        steps_out = [(int(chosen.size), None, None)]
        for k in range(1, len(steps)):
            there = chosen[reached[chosen] > k]
            prev = (times[k][there] - times[k - 1][there]) / 1e6
            first = (times[k][there] - times[0][there]) / 1e6
            steps_out.append((int(there.size), _percentile_cont(prev, 0.5), _percentile_cont(first, 0.5)))
        groups.append({"group": name, "steps": steps_out})
    return groups


class UnknownValue(Exception):
    """A breakdown value outside the codes (the caller answers from raw events)."""
