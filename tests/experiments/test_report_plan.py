"""The experiment report's metric query joins exposed users to their events by hash.

Right after a bulk load the table's statistics are stale (autovacuum has not analyzed it) and
the planner guesses one exposed user; with nested loops allowed it then scans every event of
the metric's type once per exposed user (measured: 600 users x 100,000 events, 29 s, a 503 in
the full test suite). A temporary `events` (never analyzed) reproduces that state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from analytics_svc.experiments import queries
from analytics_svc.experiments.model import Metric
from analytics_svc.queries.params import analytical_settings
from analytics_svc.requests import Filters

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def test_exposed_users_meet_their_events_by_hash_on_fresh_statistics(db, analytics):
    metric = Metric(name="creation_time", kind="mean", event="story_creation", property="creation_time")
    sql, values = queries.moments_sql(
        metric, "plan", NOW - timedelta(days=7), NOW + timedelta(days=1), Filters()
    )
    async with db.acquire() as conn, conn.transaction():
        # pg_temp comes first on the search path: this `events` hides the real one here.
        await conn.execute("CREATE TEMP TABLE events (LIKE public.events INCLUDING ALL) ON COMMIT DROP")
        await conn.execute(
            """INSERT INTO events (event_id, user_id, event_type, ts, creation_time)
               SELECT 'c' || i, 'u' || (i % 300), 'story_creation',
                      $1::timestamptz + make_interval(secs => i), i % 60
               FROM generate_series(1, 20000) i""",
            NOW,
        )
        await conn.execute(
            """INSERT INTO events (event_id, user_id, event_type, ts, props)
               SELECT 'x' || i, 'u' || i, 'experiment_exposure', $1::timestamptz,
                      jsonb_build_object('experiment_key', 'plan',
                                         'variant', CASE WHEN i < 150 THEN 'a' ELSE 'b' END)
               FROM generate_series(0, 299) i""",
            NOW,
        )
        await conn.execute(analytical_settings(nested_loops=queries.MOMENTS_NESTED_LOOPS))
        plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + sql, *values))
        rows = {r["variant"]: r for r in await conn.fetch(sql, *values)}
    assert "Nested Loop" not in plan, plan
    assert "Hash" in plan and "Join" in plan, plan
    # And the answer: per user the mean creation time of their stories (all after exposure).
    per_user: dict[int, list[int]] = {}
    for i in range(1, 20001):
        per_user.setdefault(i % 300, []).append(i % 60)
    means = [sum(v) / len(v) for v in per_user.values()]
    assert {v: r["n"] for v, r in rows.items()} == {"a": 150, "b": 150}
    assert sum(r["sy"] for r in rows.values()) == pytest.approx(sum(means))
    assert sum(r["syy"] for r in rows.values()) == pytest.approx(sum(m * m for m in means))
