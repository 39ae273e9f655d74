"""The PostgreSQL event store (analytics_svc/eventstore/postgres.py) on the real database:
idempotent appends, erasure, and reads that are the service's own queries."""

from __future__ import annotations

from datetime import date, timedelta

from analytics_svc.eventstore.postgres import PostgresEventStore
from analytics_svc.requests import Filters, ReportParams, Step
from tests.analytics import reference as ref
from tests.analytics.builder import day_start, rows, stream


async def test_appends_are_idempotent_and_erasure_removes_a_user(analytics, db):
    events = PostgresEventStore(db)
    first = date(2016, 3, 7)
    evs = stream(11, first, 5, users=6, per_user=12)
    loaded = rows(evs)
    assert await events.append(loaded[:10]) == {r[0] for r in loaded[:10]}
    assert await events.append(loaded) == {r[0] for r in loaded[10:]}
    assert await events.append(loaded) == set()
    lo, hi = day_start(first), day_start(first + timedelta(days=5))
    assert await events.active_users(lo, hi, Filters()) == len({e.user_id for e in evs})
    steps = (Step("session_start"), Step("story_started"))
    params = ReportParams(report_type="funnel", start=first, end=first + timedelta(days=4), steps=steps)
    groups, _ = await events.funnel(params, 3600)
    want = ref.funnel(evs, steps, "ordered", 3600, params.start, params.end, {})
    assert {g["group"]: [s[0] for s in g["steps"]] for g in groups} == {
        k: [s[0] for s in v] for k, v in want.items()
    }
    victim = evs[0].user_id
    assert await events.erase_user(victim) == sum(1 for e in evs if e.user_id == victim)
    assert await events.active_users(lo, hi, Filters()) == len({e.user_id for e in evs}) - 1
