"""The funnel query (semantics in docs/analytics.md, reference in tests/analytics/reference.py).

Events of the range (and up to one window beyond it) are taken per user in stream
order (ts, event_id). Every step-1 event in the range starts an attempt; the attempt
takes, for each next step, the earliest matching event after the previous step
("ordered": running minimums over the later events, one window pass per step, no
joins) or exactly the next event of the user ("strict": lead()), as long as it is
within the window of the first step. Each user keeps the attempt reaching the furthest
step (the earliest such one).
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from analytics_svc.queries.params import BREAKDOWN_SQL, Binds, dims_filter, fetch_analytical
from analytics_svc.requests import STEP_PROPERTIES, Filters, Step

_ARRAYS = {"universe": "universes", "character": "characters"}


def step_predicate(step: Step, binds: Binds) -> str:
    parts = [f"event_type = {binds.add(step.event_type, 'text')}"]
    for name, value in step.conditions:
        kind, placeholder = STEP_PROPERTIES[name], binds.add(value, "text")
        if kind == "column":
            parts.append(f"{name} = {placeholder}")
        elif kind == "array":
            parts.append(f"{placeholder} = ANY({_ARRAYS[name]})")
        else:
            parts.append(f"props->>{binds.add(name, 'text')} = {placeholder}")
    return "(" + " AND ".join(parts) + ")"


def funnel_sql(
    steps: tuple[Step, ...],
    order: str,
    breakdown: str,
    filters: Filters,
    lo: datetime,
    hi: datetime,
    horizon: datetime,
    window_seconds: int,
) -> tuple[str, list[object]]:
    """SQL and its values: one row per breakdown group, with per-step users and medians."""
    binds = Binds()
    n = len(steps)
    flags = ", ".join(f"coalesce({step_predicate(s, binds)}, false) AS m{i + 1}" for i, s in enumerate(steps))
    lo_p, hi_p = binds.add(lo, "timestamptz"), binds.add(hi, "timestamptz")
    horizon_p = binds.add(horizon, "timestamptz")
    window = f"make_interval(secs => {binds.add(window_seconds, 'int')})"
    where = dims_filter(binds, filters)
    if order == "ordered":
        types = binds.add(sorted({s.event_type for s in steps}), "text[]")
        where += f" AND event_type = ANY({types})"
    any_step = " OR ".join(f"m{i}" for i in range(1, n + 1))
    # One stream order everywhere: by user, then time, then event_id (byte order).
    later = (
        'PARTITION BY user_id COLLATE "C" ORDER BY ts DESC, event_id COLLATE "C" DESC '
        "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"
    )
    base = f"""
        ev AS (
            SELECT user_id, ts, event_id, {BREAKDOWN_SQL[breakdown]} AS grp, {flags}
            FROM events WHERE ts >= {lo_p} AND ts <= {horizon_p} AND {where}
        )"""
    if order == "ordered":
        # Greedy chains without self-joins. c{k}_{j}(r): time of step j in the chain whose
        # step k is the first step-k event after r. Chains from later events never end
        # earlier, so "the value at the first step-k event after r" is a running minimum
        # over the later step-k events: one window pass per step, all in the same order.
        levels, prev = [], f"(SELECT * FROM ev WHERE {any_step})"
        for k in range(n, 1, -1):
            cols = [f"min(ts) FILTER (WHERE m{k}) OVER later AS c{k}_{k}"]
            cols += [
                f"min(c{k + 1}_{j}) FILTER (WHERE m{k}) OVER later AS c{k}_{j}" for j in range(k + 1, n + 1)
            ]
            levels.append(f"l{k} AS (SELECT *, {', '.join(cols)} FROM {prev} x WINDOW later AS ({later}))")
            prev = f"l{k}"
        times = ["ts AS t1"] + [
            f"CASE WHEN c2_{k} <= ts + {window} THEN c2_{k} END AS t{k}" for k in range(2, n + 1)
        ]
        chain = f""",
        {", ".join(levels)},
        att AS (
            SELECT user_id, grp, event_id, {", ".join(times)}
            FROM {prev} WHERE m1 AND ts >= {lo_p} AND ts < {hi_p}
        )"""
    else:
        leads, ok = ["ts AS t1"], "TRUE"
        for k in range(2, n + 1):
            at = f"lead(ts, {k - 1}) OVER u"
            ok += f" AND coalesce(lead(m{k}, {k - 1}) OVER u, false) AND {at} <= ts + {window}"
            leads.append(f"CASE WHEN {ok} THEN {at} END AS t{k}")
        chain = f""",
        lead_att AS (
            SELECT user_id, grp, event_id, m1, ts, {", ".join(leads)}
            FROM ev WINDOW u AS (PARTITION BY user_id COLLATE "C" ORDER BY ts, event_id COLLATE "C")
        ),
        att AS (SELECT * FROM lead_att WHERE m1 AND ts >= {lo_p} AND ts < {hi_p})"""
    reached = " + ".join(["1", *(f"(t{k} IS NOT NULL)::int" for k in range(2, n + 1))])
    cols = ", ".join(f"t{k}" for k in range(1, n + 1))
    per_step = []
    for k in range(1, n + 1):
        per_step.append(f"count(*) FILTER (WHERE reached >= {k}) AS users{k}")
        if k > 1:
            per_step.append(
                f"percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t{k} - t{k - 1})) AS prev{k}"
            )
            per_step.append(
                f"percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t{k} - t1)) AS first{k}"
            )
    sql = f"""
        WITH {base}{chain},
        best AS (
            SELECT DISTINCT ON (user_id, grp) user_id, grp, reached, {cols}
            FROM (SELECT *, {reached} AS reached FROM att) x
            ORDER BY user_id, grp, reached DESC, t1, event_id COLLATE "C"
        )
        SELECT grp, {", ".join(per_step)} FROM best GROUP BY grp ORDER BY grp
    """
    return sql, binds.values


async def run(pool: asyncpg.Pool, *args) -> list[asyncpg.Record]:
    sql, values = funnel_sql(*args)
    return await fetch_analytical(pool, sql, *values)
