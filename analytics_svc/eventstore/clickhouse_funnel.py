"""Funnels in ClickHouse SQL (docs/analytics.md "funnel"): per user, the stream as arrays sorted
by ts and step mask (one sort of time × 2^width + mask), the chains from every position, the
best attempt per group, the figures per group; and the exact fold of the few users whose
same-time events make that order doubtful (read in (ts, event_id) order through the primary
key). ClickHouseEventStore.funnel runs them.

An ordered funnel over event types alone (no step conditions, no breakdown but the stream
table's properties) reads its streams from `funnel_streams` (clickhouse_schema.py AGGREGATES: per
event type, user, month and properties, the array of times) instead of raw events: only
the rows of the steps' types, with no per-event grouping."""

from __future__ import annotations

from datetime import timedelta

from analytics_svc.eventstore.clickhouse_sql import BREAKDOWN, Params, dims_filter, micros, step_predicate
from analytics_svc.requests import ReportParams, day_start

_NONE = "toInt64(9223372036854775807)"  # no such step
_SHIFT = "toUInt64(4294967296)"
# The breakdowns `funnel_streams` keeps a column for ('' = none).
STREAM_BREAKDOWNS = ("", "age_group", "platform", "device_type")


def from_streams(params: ReportParams) -> bool:
    """Whether `funnel_streams` answers this funnel: ordered (a strict funnel needs every
    event between the steps), steps by type alone, a breakdown it holds."""
    return (
        params.funnel_order == "ordered"
        and params.breakdown in STREAM_BREAKDOWNS
        and not any(s.conditions for s in params.steps)
    )


class FunnelQuery:
    """The SQL of one funnel (docs/analytics.md "funnel"): per user, the stream as arrays
    (times t, step masks m, breakdown values g), the chains from every position, the best
    attempt per group; then the figures per group. One Params for all of its queries."""

    def __init__(self, params: ReportParams, window_seconds: int, events: str, streams: str = "") -> None:
        """`streams`: the funnel_streams table, used when `from_streams(params)`."""
        self.params, self.n, self.events = params, len(params.steps), events
        self.stream_table = streams if streams and from_streams(params) else ""
        lo, hi = day_start(params.start), day_start(params.end + timedelta(days=1))
        horizon = hi + timedelta(seconds=window_seconds)
        p = self.p = Params()
        bits = " + ".join(
            f"bitShiftLeft(toUInt32({step_predicate(s, p)}), {i})" for i, s in enumerate(params.steps)
        )
        width = 8 if self.n <= 8 else 16 if self.n <= 16 else 32
        self.mask_type = f"toUInt{width}"
        self.mask = f"{self.mask_type}({bits})"
        # A stream's sort key, time × scale + mask (streams()): Int64 while the mask fits 8 bits.
        self.key_type = "toInt64" if width == 8 else "toInt128"
        self.scale = f"{self.key_type}({256 if width == 8 else 1 << 32})"
        self.where = f"ts >= {p.time(lo)} AND ts <= {p.time(horizon)} AND {dims_filter(p, params.filters)}"
        if params.funnel_order == "ordered":
            types = p.add(sorted({s.event_type for s in params.steps}), "Array(String)")
            self.where += f" AND event_type IN {types}"
        self.range = (micros(lo), micros(hi))  # attempts start in [lo, hi), µs
        self.window = window_seconds * 1_000_000
        self.lo_us, self.hi_us = p.add(self.range[0], "Int64"), p.add(self.range[1], "Int64")
        self.window_us = p.add(self.window, "Int64")
        self.months = (p.add(lo.date().replace(day=1), "Date"), p.add(horizon.date().replace(day=1), "Date"))
        self.horizon_us = p.add(micros(horizon), "Int64")
        # An attempt's row (a user's answer in a group), as `attempts` gives it.
        self.row = ["user_id", "grp", "reached", *(f"t{k}" for k in range(1, self.n + 1))]

    def streams(self, users: str) -> str:
        """One row per user: t, m (and g) in stream order, and whether that order is in doubt
        (`tied`). Each event's time and step mask are one number (time × 2^width + mask), so a
        single plain sort orders both: a key-sorted second array costs ~12 ms more at 2M
        events. Events of the same ts then come in mask order, not the stream's; that
        matters only where they differ in mask or group, the `tied` users."""
        inner = self._stored_streams(users) if self.stream_table else self._raw_streams(users)
        s = self.scale
        g = ", g" if self.params.breakdown else ""
        pairs = "a, b, ga, gb" if g else "a, b"
        differ = "a != b OR ga != gb" if g else "a != b"
        ends = "arrayPopBack(p), arrayPopFront(p)" + (", arrayPopBack(g), arrayPopFront(g)" if g else "")
        return f"""SELECT user_id, arrayMap(x -> toInt64(intDiv(x, {s})), p) AS t,
                   arrayMap(x -> {self.mask_type}(x % {s}), p) AS m{g},
                   arrayExists(({pairs}) -> intDiv(a, {s}) = intDiv(b, {s}) AND ({differ}), {ends}) AS tied
            FROM ({inner})"""

    def _packed(self, time: str, mask: str) -> str:
        return f"{self.key_type}({time}) * {self.scale} + {mask}"

    def _stored_streams(self, users: str) -> str:
        """user_id, p (and g) from funnel_streams: the steps' types only (an ordered funnel
        never steps on another event), each type's times with its steps' mask.
        No quoted literal in the text: clickhouse-connect then finds the placeholders
        without tokenizing the query (5 ms of Python per query otherwise)."""
        p, steps = self.p, self.params.steps
        types = sorted({s.event_type for s in steps})
        masks = [sum(1 << i for i, s in enumerate(steps) if s.event_type == t) for t in types]
        mask = f"transform(event_type, {p.add(types, 'Array(String)')}, {p.add(masks, 'Array(UInt32)')}, 0)"
        in_range = f"arrayFilter(x -> x >= {self.lo_us} AND x <= {self.horizon_us}, times)"
        group = self.params.breakdown
        groups = f"groupArrayArray(arrayResize([{group}], length(packed), {group}))"
        g = f", arraySort((x, k) -> k, {groups}, p0) AS g" if group else ""
        return f"""SELECT user_id, groupArrayArray(packed) AS p0, arraySort(p0) AS p{g}
            FROM (
                SELECT user_id, arrayMap(x -> {self._packed("x", "mk")}, {in_range}) AS packed
                       {f", {group}" if group else ""}
                FROM (
                    SELECT user_id, times, {mask} AS mk{f", {group}" if group else ""}
                    FROM {self.stream_table}
                    WHERE event_type IN {p.add(types, "Array(String)")}
                      AND month >= {self.months[0]} AND month <= {self.months[1]}
                      AND {dims_filter(p, self.params.filters)} AND {users}
                )
            )
            GROUP BY user_id"""

    def _raw_streams(self, users: str) -> str:
        """user_id, p (and g) from the events, without reading event_id (reading that String
        for every event of the range costs as much as the rest of the funnel)."""
        group = BREAKDOWN[self.params.breakdown] if self.params.breakdown else None
        g = f", arraySort((x, k) -> k, groupArray({group}), p0) AS g" if group else ""
        packed = self._packed("toUnixTimestamp64Micro(ts)", self.mask)
        return f"""SELECT user_id, groupArray({packed}) AS p0, arraySort(p0) AS p{g}
            FROM {self.events} WHERE {self.where} AND {users} GROUP BY user_id"""

    def events_of(self, users: str) -> str:
        """The events of a few users (`users`: a placeholder of their ids, read through
        the primary key): user_id, t, m, g, event_id, in no order (`in_stream_order` sorts
        them: a few hundred rows; ORDER BY cost the query a third of its time)."""
        group = BREAKDOWN[self.params.breakdown] if self.params.breakdown else self.p.add("", "String")
        return f"""SELECT user_id, toUnixTimestamp64Micro(ts) AS t, {self.mask} AS m, {group} AS g, event_id
            FROM {self.events} WHERE {self.where} AND user_id IN {users}"""

    def attempts(self, users: str = "1") -> str:
        """One row per user and group with an attempt: user_id, grp, reached, t1..tn (the
        times of the counted attempt's steps, 0 past `reached`), tied."""
        n, window_us = self.n, self.window_us
        ordered = self.params.funnel_order == "ordered"
        arrays = _ordered_chains(n) if ordered else _strict_chains(n, window_us)
        later = [f"c2_{k}" for k in range(2, n + 1)]
        # Per position: 0, or for an attempt (a step-1 event of the range) the steps it
        # reaches (step k counts when it exists and is within the window of step 1: chains
        # are prefix-closed) and the position, as one number (steps << 32 | ~position):
        # each group's best attempt, the most steps then the earliest, is the largest.
        valid = [f"(v{k} != {_NONE} AND v{k} - tt <= {window_us})" for k in range(2, n + 1)]
        scores = (
            f"arrayMap((mm, tt, {', '.join(f'v{k}' for k in range(2, n + 1))}, i) ->"
            f" if(bitTest(mm, 0) AND tt >= {self.lo_us} AND tt < {self.hi_us},"
            f" (1 + {' + '.join(valid)}) * {_SHIFT} + ({_SHIFT} - 1 - i), 0),"
            f" m, t, {', '.join(later)}, arrayEnumerate(m))"
        )
        if self.params.breakdown:
            groups_of = "ARRAY JOIN arrayDistinct(arrayFilter((gg, s) -> s > 0, g, sc)) AS grp"
            best = "arrayMax(arrayMap((s, gg) -> if(gg = grp, s, 0), sc, g))"
        else:
            groups_of, best = "", "arrayMax(sc)"
        times = ", ".join(
            f"if(reached >= {k}, {a}[pos], 0) AS t{k}" for k, a in enumerate(["t", *later], start=1)
        )
        grp = "grp" if self.params.breakdown else self.p.add("", "String")  # no quotes: _stored_streams
        return f"""
            SELECT {", ".join(self.row)}, tied
            FROM (
                SELECT user_id, {grp} AS grp, {best} AS score,
                       intDiv(score, {_SHIFT}) AS reached, {_SHIFT} - 1 - (score % {_SHIFT}) AS pos,
                       {times}, tied
                FROM (
                    SELECT user_id, t, m, {"g, " if self.params.breakdown else ""}tied, {", ".join(arrays)},
                           {scores} AS sc
                    FROM ({self.streams(users)})
                )
                {groups_of}
                WHERE score > 0
            )"""

    def figures(self, attempts: str, with_ties: bool) -> str:
        """Per group: users per step, the medians from the previous and the first step;
        `with_ties`: also the rows of the tied users (user_id, grp, reached, t1..tn)."""
        per_step = []
        for k in range(1, self.n + 1):
            per_step.append(f"countIf(reached >= {k}) AS users{k}")
            if k > 1:
                median = "quantileExactInclusiveIf(0.5)((t{} - t{}) / 1e6, reached >= {})"
                per_step.append(f"{median.format(k, k - 1, k)} AS prev{k}")
                # From the first step: at step 2 the same figure (one sort of the times, not two).
                per_step.append(f"{'prev2' if k == 2 else median.format(k, 1, k)} AS first{k}")
        if with_ties:
            per_step.append(f"groupArrayIf(({', '.join(self.row)}), tied) AS ties")
        return f"SELECT grp, {', '.join(per_step)} FROM ({attempts}) GROUP BY grp ORDER BY grp"


def in_stream_order(events: list[dict]) -> list[dict]:
    """Rows of `FunnelQuery.events_of` in stream order: by user, ts, then event_id (code point
    order, as ClickHouse and PostgreSQL's "C" order compare UTF-8 bytes)."""
    return sorted(events, key=lambda e: (e["user_id"], e["t"], e["event_id"]))


def exact_attempts(events: list[dict], order: str, query: FunnelQuery) -> list[tuple]:
    """The attempt rows of `FunnelQuery.attempts` from events in stream order, folded as
    docs/analytics.md says: every step-1 event of the range starts an attempt; the next
    step is the first later event matching it (ordered) or the very next event (strict),
    within the window of step 1; per user and group, the most steps, then the earliest."""
    n, (lo, hi), window = query.n, query.range, query.window
    streams: dict[str, list[tuple[int, int, str]]] = {}
    for e in events:
        if order == "strict" or e["m"]:  # ordered: other events are never a step
            streams.setdefault(e["user_id"], []).append((e["t"], e["m"], e["g"]))
    best: dict[tuple[str, str], list[int]] = {}
    for user, stream in streams.items():
        for i, (t, m, g) in enumerate(stream):
            if not (m & 1 and lo <= t < hi):
                continue
            times, pos = [t], i
            for k in range(1, n):
                if order == "strict":
                    nxt = pos + 1 if pos + 1 < len(stream) and stream[pos + 1][1] >> k & 1 else None
                else:
                    nxt = next((j for j in range(pos + 1, len(stream)) if stream[j][1] >> k & 1), None)
                if nxt is None or stream[nxt][0] - t > window:
                    break
                times.append(stream[nxt][0])
                pos = nxt
            if len(times) > len(best.get((user, g), ())):
                best[(user, g)] = times
    return [(u, g, len(ts), *ts, *[0] * (n - len(ts))) for (u, g), ts in best.items()]


def _ordered_chains(n: int) -> list[str]:
    """c2_k: for each position r, the time of step k in the greedy chain whose step 2 is the
    first step-2 event after r (docs/analytics.md "Ordered"). As in the PostgreSQL query, the
    chain at the first step-k event after r is the one to take (chains from later events
    never end earlier), so each array is the next masked value, filled from the right: no
    per-attempt loop, no captured arrays."""
    arrays = []
    for k in range(n, 1, -1):
        for j in range(k, n + 1):
            value = "t" if j == k else f"c{k + 1}_{j}"
            masked = f"arrayMap((v, mm) -> if(bitTest(mm, {k - 1}), v, {_NONE}), {value}, m)"
            filled = f"arrayReverseFill((v, mm) -> bitTest(mm, {k - 1}), {masked}, m)"
            arrays.append(f"arrayShiftLeft({filled}, 1, {_NONE}) AS c{k}_{j}")
    return arrays


def _strict_chains(n: int, window: str) -> list[str]:
    """c2_k: the time of step k when the events right after position r are steps 2..k,
    each within the window of r (docs/analytics.md "Strict")."""
    arrays, ok = [], "arrayMap(x -> 1, t)"
    for k in range(2, n + 1):
        shifted_m, shifted_t = f"arrayShiftLeft(m, {k - 1}, 0)", f"arrayShiftLeft(t, {k - 1}, {_NONE})"
        arrays.append(
            f"arrayMap((o, mm, tt, t0) -> o AND bitTest(mm, {k - 1}) AND tt - t0 <= {window},"
            f" ok{k - 1}, {shifted_m}, {shifted_t}, t) AS ok{k}"
        )
        arrays.append(f"arrayMap((o, tt) -> if(o, tt, {_NONE}), ok{k}, {shifted_t}) AS c2_{k}")
    return [ok + " AS ok1", *arrays]
