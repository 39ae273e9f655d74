"""The experiment report and recommendation click-through on the ClickHouse event store
against PostgreSQL: the same exposures (users per variant, users since the last weight
change for SRM, users seen in several variants), the same sufficient statistics per
variant (conversion and mean metrics with their CUPED covariates, ratio metrics) and so the
same report; the same click-through cells. Random streams with ties (quarter-hour times),
repeated exposures and events, and out-of-order, repeated arrival."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from analytics_svc.eventstore.postgres import PostgresEventStore
from analytics_svc.experiments import store as experiment_store
from analytics_svc.experiments.model import Experiment, Metric, Variant
from analytics_svc.ingestion import store
from analytics_svc.ingestion.prepare import to_row
from analytics_svc.reports import by_type, click_through
from analytics_svc.requests import DashboardParams, Filters, ReportParams
from tests.analytics.builder import day_start, prefix
from tests.events import event

pytestmark = pytest.mark.clickhouse

# Each example gets two weeks of its own from 2013-01-07 on (no other test uses 2013).
_slots = itertools.count()
VARIANTS = ["control", "b", "c"]
ACTIONS = ["story_creation", "story_view", "recommendation_shown", "recommendation_clicked", "session_start"]
QUARTER = 900

exposure = st.tuples(
    st.integers(0, 7),  # user
    st.sampled_from([0, 0, 0, 1]),  # 1: a variant other than the user's own (mixed users)
    st.integers(0, 5 * 96),  # quarter hour of the exposure over 5 days
    st.sampled_from(["this", "this", "this", "other"]),  # another experiment's exposures too
)
action = st.tuples(
    st.integers(0, 7),
    st.sampled_from(ACTIONS),
    st.integers(-96, 7 * 96),  # from a day before the exposures to two days after
    st.sampled_from([None, 30.0, 120.5, 600.0]),  # creation_time, duration
    st.sampled_from([None, "space"]),
    st.sampled_from(["story", "theme"]),
    st.sampled_from(["", "v1", "v2"]),
)


def _events(exposures, actions, key: str, first_day: date) -> list:
    tag = prefix()
    start = day_start(first_day)
    out = []

    def add(user: int, kind: str, quarter: int, props: dict) -> None:
        context = {"platform": "ios" if user % 2 else "web", "age_group": "6-8", "device_type": "tablet"}
        ts = start + timedelta(seconds=quarter * QUARTER)
        out.append(
            event(
                event_id=f"{tag}-{len(out):04d}",
                user_id=f"{tag}-u{user}",
                event_type=kind,
                timestamp=ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                properties={**context, **props},
                session_id=None,
            )
        )

    for user, switch, quarter, which in exposures:
        variant = VARIANTS[(user + switch) % len(VARIANTS)]
        add(
            user,
            "experiment_exposure",
            quarter,
            {"experiment_key": key if which == "this" else f"{key}-x", "variant": variant},
        )
    for user, kind, quarter, value, theme, rec_type, version in actions:
        props: dict = {}
        if kind == "story_creation":
            props = {"theme": theme} if theme else {}
            if value is not None:
                props["creation_time"] = value
        elif kind == "story_view" and value is not None:
            props["duration"] = value
        elif kind.startswith("recommendation_"):
            props = {"recommendation_type": rec_type, "item_id": "story-1", "position": user % 3}
            if version:
                props["model_version"] = version
        add(user, kind, quarter, props)
    return out


async def _load(db, clickhouse, events: list, seed: int) -> None:
    received = datetime.now(UTC)
    loaded = [to_row(e, received) for e in events]
    async with db.acquire() as conn:
        await store.insert_events(conn, loaded)
    shuffled = loaded[:]
    random.Random(seed).shuffle(shuffled)
    half = len(shuffled) // 2
    assert await clickhouse.append(shuffled[:half]) == {r[0] for r in shuffled[:half]}
    assert await clickhouse.append(shuffled) == {r[0] for r in shuffled[half:]}


METRICS = (
    Metric("created_space", "conversion", "story_creation[theme=space]", window_hours=24),
    Metric("creation_time", "mean", "story_creation", property="creation_time", goal="decrease"),
    Metric("view_duration", "mean", "story_view", property="duration", window_hours=6),
    Metric(
        "ctr", "ratio", "recommendation_clicked", denominator_event="recommendation_shown", window_hours=48
    ),
    Metric("time_per_session", "ratio", "story_view", property="duration", denominator_event="session_start"),
)


@settings(
    max_examples=20,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    exposures=st.lists(exposure, min_size=4, max_size=30),
    actions=st.lists(action, min_size=5, max_size=80),
    platform=st.sampled_from(["", "ios"]),
    weights_changed=st.booleans(),
    seed=st.integers(0, 1000),
)
async def test_experiment_report_and_click_through_are_the_same_on_both_backends(
    analytics, db, clickhouse, exposures, actions, platform, weights_changed, seed
):
    first_day = date(2013, 1, 7) + timedelta(days=14 * next(_slots))
    last_day = first_day + timedelta(days=4)
    key = f"ch-{prefix()}"
    events = _events(exposures, actions, key, first_day)
    await _load(db, clickhouse, events, seed)
    postgres = PostgresEventStore(db)
    filters = Filters(platform=platform)
    lo, hi = day_start(first_day), day_start(last_day + timedelta(days=1))
    # SRM counts the users first exposed since the last weight change.
    since = lo + timedelta(days=2) if weights_changed else None
    want = await postgres.experiment_exposures(key, lo, hi, filters, since)
    assert await clickhouse.experiment_exposures(key, lo, hi, filters, since) == want
    assert sum(want[0].values()) + want[2] == len(
        {e.user_id for e in events if _exposed(e, key, platform, hi)}
    )
    for metric in METRICS:
        want = await postgres.experiment_moments(metric, key, lo, hi, filters)
        got = await clickhouse.experiment_moments(metric, key, lo, hi, filters)
        assert got.keys() == want.keys(), metric.name
        for variant, row in want.items():
            assert _moments(got[variant]) == pytest.approx(_moments(row), rel=1e-9, abs=1e-9), metric.name
    # The whole report, from the definition in PostgreSQL.
    exp = Experiment(
        key,
        variants=tuple(Variant(v, w) for v, w in zip(VARIANTS, (2, 1, 1), strict=True)),
        primary_metric=METRICS[0],
        guardrail_metrics=METRICS[1:],
    )
    assert await experiment_store.insert(db, exp) is not None
    if weights_changed:
        await db.execute("UPDATE experiments SET weights_changed_at = $2 WHERE key = $1", key, since)
    params = ReportParams("experiment", first_day, last_day, filters=filters, experiment_key=key)
    on_pg = await by_type.build(db, params, postgres)
    on_ch = await by_type.build(db, params, clickhouse)
    assert [(t.name, t.columns) for t in on_ch.tables] == [(t.name, t.columns) for t in on_pg.tables]
    for mine, theirs in zip(on_ch.tables, on_pg.tables, strict=True):
        assert _approx_rows(mine.rows) == _approx_rows(theirs.rows), mine.name
    assert on_ch.summary.keys() == on_pg.summary.keys()
    for name, value in on_pg.summary.items():
        assert _same(on_ch.summary[name], value), name
    # Click-through: every cell of the range (a day either side left out).
    board = DashboardParams(first_day, last_day - timedelta(days=1), filters)
    on_pg = await click_through.build(postgres, board)
    on_ch = await click_through.build(clickhouse, board)
    assert (on_ch.total, on_ch.by_type, on_ch.by_model_version, on_ch.by_model_version_and_type) == (
        on_pg.total,
        on_pg.by_type,
        on_pg.by_model_version,
        on_pg.by_model_version_and_type,
    )


def _exposed(e, key: str, platform: str, hi: datetime) -> bool:
    p = e.properties
    return (
        e.event_type == "experiment_exposure"
        and datetime.fromisoformat(e.timestamp.replace("Z", "+00:00")) < hi
        and p.experiment_key == key
        and (not platform or p.platform == platform)
    )


def _moments(row) -> list[float]:
    return [float(row[name]) for name in ("n", "sy", "syy", "sx", "sxx", "sxy")]


def _same(a, b) -> bool:
    if isinstance(b, float) and not isinstance(b, bool):
        return a == pytest.approx(b, rel=1e-7, abs=1e-9)
    return a == b


def _approx_rows(rows: list[list]) -> list[list]:
    return [
        [pytest.approx(v, rel=1e-7, abs=1e-9) if isinstance(v, float) else v for v in row] for row in rows
    ]
