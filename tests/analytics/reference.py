"""Plain-Python reference computations of the reports, written from docs/analytics.md
and independent of the SQL: loops over the same generated events."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from tests.analytics.builder import Ev, day_start


def percentile_cont(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def in_days(ev: Ev, first: date, last: date) -> bool:
    return first <= ev.ts.date() <= last


def matches_filters(ev: Ev, filters: dict[str, str]) -> bool:
    return all(getattr(ev, k) == v for k, v in filters.items() if v)


def bucket(ts: datetime, granularity: str) -> str:
    if granularity == "hour":
        return ts.replace(minute=0, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    day = ts.date()
    if granularity == "week":
        day -= timedelta(days=day.weekday())
    return str(day)


def breakdown_value(ev: Ev, breakdown: str) -> str:
    if not breakdown:
        return ""
    if breakdown == "universe":
        return ev.universes[0] if ev.universes else ""
    return getattr(ev, breakdown) or ""


# --- dashboard -------------------------------------------------------------------------


def active_users(events: list[Ev], start: date, end: date, filters: dict) -> dict:
    days: dict[date, set[str]] = defaultdict(set)
    for ev in events:
        if matches_filters(ev, filters):
            days[ev.ts.date()].add(ev.user_id)

    def users(first: date) -> int:
        return len(set().union(*[u for d, u in days.items() if first <= d <= end]))

    n_days = (end - start).days + 1
    daily = [len(days.get(start + timedelta(days=i), ())) for i in range(n_days)]
    mau = users(end - timedelta(days=29))
    return {
        "dau": len(days.get(end, ())),
        "wau": users(end - timedelta(days=6)),
        "mau": mau,
        "daily": daily,
        "stickiness": (sum(daily) / n_days) / mau if mau else 0.0,
    }


def content_uses(events: list[Ev], start: date, end: date, filters: dict) -> dict[str, dict[str, int]]:
    uses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for ev in events:
        if (
            ev.event_type != "story_creation"
            or not in_days(ev, start, end)
            or not matches_filters(ev, filters)
        ):
            continue
        for u in set(ev.universes):
            uses["universe"][u] += 1
        for c in set(ev.characters):
            uses["character"][c] += 1
        if ev.theme:
            uses["theme"][ev.theme] += 1
        if ev.moral_lesson:
            uses["moral_lesson"][ev.moral_lesson] += 1
        for a in set(ev.universes):
            for b in set(ev.universes):
                if a < b:
                    uses["universe_pair"][f"{a}+{b}"] += 1
    return uses


def top(counts: dict[str, int], limit: int = 10) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


# --- reports ---------------------------------------------------------------------------


def story_creation(events, start, end, granularity, filters, breakdown="") -> dict:
    groups: dict[tuple[str, str], list[Ev]] = defaultdict(list)
    for ev in events:
        if ev.event_type == "story_creation" and in_days(ev, start, end) and matches_filters(ev, filters):
            groups[(bucket(ev.ts, granularity), breakdown_value(ev, breakdown))].append(ev)
    out = {}
    for key, evs in groups.items():
        times = [e.creation_time for e in evs if e.creation_time is not None]
        out[key] = (
            len(evs),
            len({e.user_id for e in evs}),
            percentile_cont(times, 0.5),
            percentile_cont(times, 0.9),
        )
    return out


def feature_usage(events, start, end, filters) -> dict[str, tuple[int, int]]:
    uses: dict[str, list[str]] = defaultdict(list)
    for ev in events:
        if ev.event_type == "feature_used" and in_days(ev, start, end) and matches_filters(ev, filters):
            uses[ev.feature or ""].append(ev.user_id)
    return {f: (len(users), len(set(users))) for f, users in uses.items()}


def engagement(events, start, end, granularity, filters, breakdown="") -> dict:
    sessions: dict[tuple[str, str], list[Ev]] = defaultdict(list)
    for ev in events:
        if ev.session_id and in_days(ev, start, end) and matches_filters(ev, filters):
            sessions[(ev.user_id, ev.session_id)].append(ev)
    groups: dict[tuple[str, str], list[tuple[str, int, float]]] = defaultdict(list)
    for (user, _), evs in sessions.items():
        evs.sort(key=lambda e: (e.ts, e.event_id))
        seconds = (evs[-1].ts - evs[0].ts).total_seconds()
        groups[(bucket(evs[0].ts, granularity), breakdown_value(evs[0], breakdown))].append(
            (user, len(evs), seconds)
        )
    return {
        key: (
            len(items),
            len({u for u, _, _ in items}),
            sum(n for _, n, _ in items) / len(items),
            sum(s for _, _, s in items) / len(items),
            percentile_cont([s for _, _, s in items], 0.5),
        )
        for key, items in groups.items()
    }


# --- funnels ---------------------------------------------------------------------------


def step_matches(ev: Ev, step) -> bool:
    if ev.event_type != step.event_type:
        return False
    for name, value in step.conditions:
        if name == "universe":
            ok = value in ev.universes
        elif name == "character":
            ok = value in ev.characters
        else:
            ok = getattr(ev, name, None) == value
        if not ok:
            return False
    return True


def funnel(events, steps, order, window_seconds, start, end, filters, breakdown="") -> dict:
    """{group: [(users, median_from_previous, median_from_first) per step]} (docs/analytics.md)."""
    lo = day_start(start)
    hi = day_start(end + timedelta(days=1))
    window = timedelta(seconds=window_seconds)
    per_user: dict[str, list[Ev]] = defaultdict(list)
    for ev in events:
        if matches_filters(ev, filters) and lo <= ev.ts <= hi + window:
            per_user[ev.user_id].append(ev)
    best: dict[tuple[str, str], tuple[int, int, list[datetime]]] = {}
    for user, evs in per_user.items():
        evs.sort(key=lambda e: (e.ts, e.event_id))
        if order == "ordered":
            evs = [e for e in evs if any(step_matches(e, s) for s in steps)]
        for i, first in enumerate(evs):
            if not (step_matches(first, steps[0]) and lo <= first.ts < hi):
                continue
            times, pos = [first.ts], i
            for step in steps[1:]:
                if order == "strict":
                    nxt = pos + 1 if pos + 1 < len(evs) and step_matches(evs[pos + 1], step) else None
                else:
                    nxt = next((j for j in range(pos + 1, len(evs)) if step_matches(evs[j], step)), None)
                if nxt is None or evs[nxt].ts - first.ts > window:
                    break
                times.append(evs[nxt].ts)
                pos = nxt
            key = (user, breakdown_value(first, breakdown))
            if key not in best or len(times) > best[key][0]:
                best[key] = (len(times), i, times)
    out: dict[str, list] = {}
    for group in sorted({g for _, g in best}):
        attempts = [times for (_, g), (_, _, times) in best.items() if g == group]
        result = []
        for k in range(1, len(steps) + 1):
            reached = [t for t in attempts if len(t) >= k]
            if k == 1:
                result.append((len(reached), None, None))
                continue
            prev = [(t[k - 1] - t[k - 2]).total_seconds() for t in reached]
            from_first = [(t[k - 1] - t[0]).total_seconds() for t in reached]
            result.append((len(reached), percentile_cont(prev, 0.5), percentile_cont(from_first, 0.5)))
        out[group] = result
    return out


# --- retention -------------------------------------------------------------------------


def retention(events, start, end, unit, periods, start_event="", return_event="", filters=None) -> dict:
    """{cohort: (size, [returned in n], [returned in n or later])}."""
    filters = filters or {}
    length = 7 if unit == "week" else 1

    def period(day: date) -> date:
        return day - timedelta(days=day.weekday()) if unit == "week" else day

    first: dict[str, Ev] = {}
    for ev in sorted(events, key=lambda e: (e.ts, e.event_id)):
        if (not start_event or ev.event_type == start_event) and ev.user_id not in first:
            first[ev.user_id] = ev
    cohorts: dict[date, list[str]] = defaultdict(list)
    for user, ev in first.items():
        if start <= ev.ts.date() <= end and matches_filters(ev, filters):
            cohorts[period(ev.ts.date())].append(user)
    returns: dict[str, set[int]] = defaultdict(set)
    cohort_of = {u: c for c, users in cohorts.items() for u in users}
    for ev in events:
        c = cohort_of.get(ev.user_id)
        if c is None or (return_event and ev.event_type != return_event):
            continue
        p = period(ev.ts.date())
        if p >= c:
            returns[ev.user_id].add((p - c).days // length)
    out = {}
    for c, users in sorted(cohorts.items()):
        bounded = [sum(1 for u in users if n in returns[u]) for n in range(periods + 1)]
        later = [sum(1 for u in users if returns[u] and max(returns[u]) >= n) for n in range(periods + 1)]
        out[c] = (len(users), bounded, later)
    return out
