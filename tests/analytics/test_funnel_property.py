"""Property test: both production funnel paths, the SQL over raw events and the numpy fold
over the per-user-day sequences (with none, some or all of the days rolled up), equal the
plain-Python reference of docs/analytics.md on random event streams, in both orderings."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics_svc.ingestion import store
from analytics_svc.reports import funnels
from analytics_svc.requests import Filters, ReportParams, Step
from analytics_svc.rollups import rebuild as rollups
from tests.analytics import reference as ref
from tests.analytics.builder import Ev, day_start, prefix, rows

# Each example gets three days of its own, from 2021-01-01 on (no other test uses 2021).
_slots = itertools.count()
TYPES = ["session_start", "story_started", "story_creation", "page_view"]
# Events mostly of the step types, so that funnels get somewhere.
EVENT_TYPES = [*TYPES[:3], *TYPES]

steps_st = st.lists(
    st.builds(
        Step,
        st.sampled_from(TYPES[:3]),
        st.sampled_from([(), (), (), (("theme", "space"),), (("universe", "frozen"),)]),
    ),
    min_size=2,
    max_size=4,
)
raw_event = st.tuples(
    st.integers(0, 2),  # user
    st.sampled_from(EVENT_TYPES),
    st.integers(0, 144).map(lambda q: q * 900),  # quarter hours over 36 h: ties and window edges happen
    st.sampled_from([None, "space", "magic"]),
    st.sampled_from([[], ["frozen"], ["bluey", "frozen"]]),
    st.sampled_from(["ios", "web"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=st.lists(raw_event, min_size=8, max_size=40),
    steps=steps_st,
    order=st.sampled_from(["ordered", "strict"]),
    window_minutes=st.sampled_from([15, 30, 60, 1440]),
    breakdown=st.sampled_from(["", "platform"]),
    platform_filter=st.sampled_from(["", "ios"]),
    rolled_days=st.sampled_from([0, 1, 3]),
)
async def test_funnel_sql_equals_reference(
    analytics, db, raw, steps, order, window_minutes, breakdown, platform_filter, rolled_days
):
    first_day = date(2021, 1, 1) + timedelta(days=3 * next(_slots))
    tag = prefix()
    events = [
        Ev(
            f"{tag}-{i:03d}",
            f"{tag}-u{user}",
            kind,
            day_start(first_day) + timedelta(seconds=offset),
            theme=theme,
            universes=universes,
            platform=platform,
        )
        for i, (user, kind, offset, theme, universes, platform) in enumerate(raw)
    ]
    async with db.acquire() as conn:
        await store.insert_events(conn, rows(events))
    params = ReportParams(
        report_type="funnel",
        start=first_day,
        end=first_day,  # attempts start on day one; later steps may run into day two
        filters=Filters(platform=platform_filter),
        breakdown=breakdown,
        steps=tuple(steps),
        window_hours=1,
        funnel_order=order,
    )
    if rolled_days:
        await rollups.run(db, first_day, first_day + timedelta(days=rolled_days - 1))
    window = window_minutes * 60
    want = ref.funnel(
        events, steps, order, window, first_day, first_day, {"platform": platform_filter}, breakdown
    )
    want = {k: _plain(v) for k, v in want.items()}
    got, _ = await funnels.compute_seconds(db, params, window, sequences_allowed=False)
    assert {g["group"]: _plain(g["steps"]) for g in got} == want
    got, source = await funnels.compute_seconds(db, params, window)
    assert {g["group"]: _plain(g["steps"]) for g in got} == want
    if not any(s.conditions for s in steps):  # the sequences answered
        assert source == {0: "raw", 1: "rollups+raw", 3: "rollups"}[rolled_days]


def _plain(steps) -> list[tuple]:
    return [(users, _r(prev), _r(first)) for users, prev, first in steps]


def _r(value):
    return None if value is None else round(float(value), 6)
