"""Funnels: how many users reach each of an ordered list of steps within a window.

Semantics (docs/analytics.md "Funnels"): attempts start at every step-1 event of the
range; the window is measured from that event and is inclusive; a user counts at the
furthest step reached over all attempts, and the median times come from the earliest
attempt reaching that step.

Two paths with the same results (the property test compares both with the reference):
the per-user-day sequences of the rollup folded in numpy (funnel_fold.py; days not
rolled up read the same rows from raw events), and the SQL over raw events
(queries/funnels.py) for what the sequences cannot answer: step property conditions,
breakdowns by feature/theme/universe, values outside the codes.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from analytics_svc.figures import Report, Table
from analytics_svc.queries import codes, daily, sequences
from analytics_svc.queries import funnels as sql
from analytics_svc.reports import funnel_fold
from analytics_svc.requests import ReportParams, day_start

COLUMNS = [
    "step",
    "name",
    "users",
    "conversion_from_previous",
    "conversion_from_first",
    "median_seconds_from_previous",
    "median_seconds_from_first",
]


async def compute(pool: asyncpg.Pool, params: ReportParams) -> tuple[list[dict], str]:
    """One dict per breakdown group: {"group": ..., "steps": [(users, median_prev, median_first)]},
    and the source (rollups, raw or rollups+raw)."""
    return await compute_seconds(pool, params, params.window_hours * 3600)


async def compute_seconds(
    pool: asyncpg.Pool, params: ReportParams, window: int, *, sequences_allowed: bool = True
) -> tuple[list[dict], str]:
    lo = day_start(params.start)
    hi = day_start(params.end + timedelta(days=1))
    if sequences_allowed and funnel_fold.answerable(params.steps, params.breakdown, params.filters):
        # Every day an event of an attempt can fall on: the range and one window beyond.
        last = (hi + timedelta(seconds=window)).date()
        cov = await daily.coverage(pool, params.start, last, sequences.VERSION)
        # Only events of the steps' types are read, except for a strict funnel with
        # dimension filters (its stream is the filtered events: every type is needed).
        types = [codes.code_of(s.event_type) for s in params.steps]
        strict = params.funnel_order == "strict"
        if strict and any(getattr(params.filters, name) for name in codes.SHIFTS):
            types = None
        rows = await sequences.user_sequences(pool, cov, types, every_row=strict)
        events, user, slot = funnel_fold.events_of(rows)
        try:
            groups = funnel_fold.fold(
                events,
                user,
                slot,
                params.steps,
                params.funnel_order,
                params.breakdown,
                params.filters,
                lo,
                hi,
                window,
            )
            return groups, cov.source
        except funnel_fold.UnknownValue:
            pass
    rows = await sql.run(
        pool,
        params.steps,
        params.funnel_order,
        params.breakdown,
        params.filters,
        lo,
        hi,
        hi + timedelta(seconds=window),
        window,
    )
    groups = []
    for r in rows:
        steps = []
        for k in range(1, len(params.steps) + 1):
            prev = r[f"prev{k}"] if k > 1 else None
            first = r[f"first{k}"] if k > 1 else None
            steps.append((r[f"users{k}"], prev, first))
        groups.append({"group": r["grp"], "steps": steps})
    return groups, "raw"


async def report(pool: asyncpg.Pool, params: ReportParams) -> Report:
    groups, source = await compute(pool, params)
    split = bool(params.breakdown)
    table = Table("funnel", ([params.breakdown] if split else []) + COLUMNS)
    for group in groups:
        entered = group["steps"][0][0]
        for k, (users, prev, first) in enumerate(group["steps"], start=1):
            before = group["steps"][k - 2][0] if k > 1 else users
            row = [
                k,
                params.steps[k - 1].label,
                users,
                users / before if before else 0.0,
                users / entered if entered else 0.0,
                prev,
                first,
            ]
            table.rows.append(([group["group"]] if split else []) + row)
    entered = sum(g["steps"][0][0] for g in groups)
    converted = sum(g["steps"][-1][0] for g in groups)
    summary = {
        "entered": entered,
        "converted": converted,
        "conversion": converted / entered if entered else 0.0,
        "order": params.funnel_order,
        "conversion_window_hours": params.window_hours,
    }
    return Report(params.report_type, str(params.start), str(params.end), [table], summary, source)
