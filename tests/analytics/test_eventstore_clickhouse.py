"""The ClickHouse event store against PostgreSQL and the reference fold: every report, the
dashboard and the funnels/retention give the same answers on both backends, over random
streams with ties (quarter-hour times), repeated steps and out-of-order, repeated arrival.

Runs on the embedded chDB engine (one per process: the `clickhouse` fixture of conftest.py)."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from analytics_svc.eventstore.clickhouse import _params as _ch_params
from analytics_svc.eventstore.clickhouse_funnel import from_streams
from analytics_svc.eventstore.postgres import PostgresEventStore
from analytics_svc.ingestion import store
from analytics_svc.reports import by_type, dashboard
from analytics_svc.reports.realtime import RealtimeCounters
from analytics_svc.requests import DashboardParams, Filters, ReportParams, Step
from analytics_svc.rollups import rebuild as rollups
from tests.analytics import reference as ref
from tests.analytics.builder import Ev, day_start, prefix, rows

pytestmark = pytest.mark.clickhouse

# Each example gets ten days of its own from 2017-01-02 on (no other test uses 2017).
_slots = itertools.count()
TYPES = ["session_start", "story_started", "story_creation", "feature_used", "page_view"]

raw_event = st.tuples(
    st.integers(0, 3),  # user
    st.sampled_from([*TYPES[:3], *TYPES]),  # mostly step types: funnels get somewhere
    st.integers(0, 9 * 96).map(lambda q: q * 900),  # quarter hours over 9 days: ties happen
    st.sampled_from([None, "space", "magic"]),
    st.sampled_from([[], ["frozen"], ["bluey", "frozen"]]),
    st.sampled_from([None, "ios", "web"]),
    st.sampled_from([None, 120.0, 300.5, 450.0]),
    st.sampled_from([None, "s1", "s2"]),
)


def _events(raw, first_day: date) -> list[Ev]:
    tag = prefix()
    out = []
    for i, (user, kind, offset, theme, universes, platform, ctime, session) in enumerate(raw):
        ev = Ev(
            f"{tag}-{i:03d}",
            f"{tag}-u{user}",
            kind,
            day_start(first_day) + timedelta(seconds=offset),
            session_id=session and f"{tag}-{user}-{session}",
            platform=platform,
            device_type="tablet" if user % 2 else "phone",
        )
        if kind == "story_creation":
            ev.theme, ev.universes, ev.creation_time = theme, universes, ctime
        if kind == "feature_used":
            ev.feature = theme or "music"
        out.append(ev)
    return out


async def _load(db, clickhouse, events: list[Ev], rolled_days: int, first_day: date, seed: int) -> None:
    loaded = rows(events)
    async with db.acquire() as conn:
        await store.insert_events(conn, loaded)
    # What direct-mode ingestion does next: the real-time counters keep first events (retention).
    counters = RealtimeCounters(db)
    counters.count_rows(loaded, datetime.now(UTC))
    await counters.flush()
    # Out of order, in batches, some events twice: the store keeps each event once.
    shuffled = loaded[:]
    random.Random(seed).shuffle(shuffled)
    half = len(shuffled) // 2
    assert await clickhouse.append(shuffled[:half]) == {r[0] for r in shuffled[:half]}
    assert await clickhouse.append(shuffled[half // 2 :]) == {r[0] for r in shuffled[half:]}
    assert await clickhouse.append(shuffled) == set()
    if rolled_days:
        await rollups.run(db, first_day, first_day + timedelta(days=rolled_days - 1))


def _tables(report) -> list:
    return [(t.name, t.columns, [[_r(v) for v in row] for row in t.rows]) for t in report.tables]


def _r(value):
    if isinstance(value, float):
        return round(value, 6)
    return value


# No shrinking: an example loads both stores, and a failure prints its kind and both answers.
@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    raw=st.lists(raw_event, min_size=10, max_size=60),
    steps=st.lists(
        st.builds(Step, st.sampled_from(TYPES[:3]), st.sampled_from([(), (), (("theme", "space"),)])),
        min_size=2,
        max_size=4,
    ),
    order=st.sampled_from(["ordered", "strict"]),
    window_hours=st.sampled_from([1, 24]),
    breakdown=st.sampled_from(["", "platform"]),
    platform=st.sampled_from(["", "ios"]),
    granularity=st.sampled_from(["day", "week"]),
    rolled_days=st.sampled_from([0, 4, 10]),
    seed=st.integers(0, 1000),
)
async def test_every_report_is_the_same_on_both_backends(
    analytics,
    db,
    clickhouse,
    raw,
    steps,
    order,
    window_hours,
    breakdown,
    platform,
    granularity,
    rolled_days,
    seed,
):
    first_day = date(2017, 1, 2) + timedelta(days=14 * next(_slots))  # a Monday
    last_day = first_day + timedelta(days=8)
    events = _events(raw, first_day)
    await _load(db, clickhouse, events, rolled_days, first_day, seed)
    postgres = PostgresEventStore(db)
    filters = Filters(platform=platform)
    base = ReportParams(
        report_type="funnel",
        start=first_day,
        end=last_day,
        filters=filters,
        breakdown=breakdown,
        steps=tuple(steps),
        window_hours=window_hours,
        funnel_order=order,
        granularity=granularity,
    )
    # The funnel, against the reference fold too.
    want = ref.funnel(
        events, steps, order, window_hours * 3600, first_day, last_day, {"platform": platform}, breakdown
    )
    got, _ = await clickhouse.funnel(base, window_hours * 3600)
    assert {g["group"]: _plain(g["steps"]) for g in got} == {k: _plain(v) for k, v in want.items()}
    for kind, extra in [
        ("funnel", {}),
        ("retention", {"breakdown": ""}),
        ("retention", {"breakdown": "", "start_event": "session_start", "return_event": "story_creation"}),
        ("story_creation", {}),
        ("feature_usage", {}),
        ("engagement", {}),
        ("content", {"breakdown": breakdown}),
    ]:
        params = replace(base, report_type=kind, **extra)
        on_pg = await by_type.build(db, params, postgres)
        on_ch = await by_type.build(db, params, clickhouse)
        assert _tables(on_ch) == _tables(on_pg), (kind, extra)
        assert _summary(on_ch.summary) == _summary(on_pg.summary), (kind, extra)
    # Performance: RPC figures from PostgreSQL, the ingestion lag (of each store's own
    # stored_at) from the store: the same events in each.
    params = replace(base, report_type="performance", breakdown="")
    now_lo = datetime.now(UTC).date() - timedelta(days=1)
    params = replace(params, start=now_lo, end=now_lo + timedelta(days=2))
    lag = (await by_type.build(db, params, clickhouse)).tables[-1]
    assert lag.name == "ingestion_lag" and all(isinstance(row[0], str) for row in lag.rows)
    # Retention against the reference as well.
    params = replace(base, report_type="retention", breakdown="", periods=8)
    cohorts, _ = await clickhouse.retention(params)
    unit = "week" if granularity == "week" else "day"
    want = ref.retention(events, first_day, last_day, unit, 8, filters={"platform": platform})
    assert {c: (e["size"], e["in"], e["or_later"]) for (_, c), e in cohorts.items()} == want
    # The dashboard's event figures.
    now = datetime(2017, 1, 1, tzinfo=UTC) + timedelta(days=14 * 200)
    board_params = DashboardParams(start=first_day, end=last_day, filters=filters)
    on_pg = await dashboard.build(db, board_params, now, postgres)
    on_ch = await dashboard.build(db, board_params, now, clickhouse)
    for name in (
        "dau",
        "wau",
        "mau",
        "daily_users",
        "events_by_type",
        "story_creations",
        "top",
        "device_split",
        "platform_split",
    ):
        assert getattr(on_ch, name) == getattr(on_pg, name), name
    assert on_ch.stickiness == pytest.approx(on_pg.stickiness)
    assert on_ch.creation_time.count == on_pg.creation_time.count
    for name in ("mean", "median", "p90"):
        assert getattr(on_ch.creation_time, name) == pytest.approx(getattr(on_pg.creation_time, name))
    assert on_ch.ingestion.total_events == on_pg.ingestion.total_events


def _summary(summary: dict) -> dict:
    return {
        k: _r(None if v is None else float(v)) if isinstance(v, int | float) else v
        for k, v in summary.items()
    }


def _plain(steps) -> list[tuple]:
    return [
        (users, _r(None if prev is None else float(prev)), _r(None if f is None else float(f)))
        for users, prev, f in steps
    ]


@pytest.mark.parametrize("order", ["ordered", "strict"])
@pytest.mark.parametrize("breakdown", ["", "platform"])
async def test_a_funnel_orders_events_of_the_same_time_by_event_id(clickhouse, order, breakdown):
    """The funnel's fast pass sorts a user's events by ts alone: here step 2 and step 3
    share a ts and only their event_ids say step 2 comes first (reached: 3; the other way
    round: 1 or 2). Each user's two tied events go to separate parts, inserted in opposite
    orders for the two users (merges stopped), so the fast pass reads one of the users in
    the wrong order whichever part it reads first: the answer must come from the exact pass."""
    first = date(2016, 11, 7) + timedelta(days=14 * (order == "strict") + 28 * bool(breakdown))
    tag, t0 = prefix(), day_start(first) + timedelta(hours=9)
    events, later = [], []
    for user in ("a", "b"):
        start = Ev(f"{tag}-{user}0", f"{tag}-{user}", "session_start", t0, platform="ios")
        step2 = Ev(
            f"{tag}-{user}1", f"{tag}-{user}", "story_started", t0 + timedelta(minutes=5), platform="ios"
        )
        step3 = replace(step2, event_id=f"{tag}-{user}2", event_type="story_creation")
        events += [start, step2, step3]
        later.append(step2 if user == "a" else step3)
    table = f"{clickhouse.db}.events"
    await clickhouse._call(lambda: clickhouse.client.command(f"SYSTEM STOP MERGES {table}"))
    try:
        assert len(await clickhouse.append(rows([e for e in events if e not in later]))) == 4
        assert len(await clickhouse.append(rows(later))) == 2
        steps = [Step("session_start"), Step("story_started"), Step("story_creation")]
        params = ReportParams(
            "funnel", first, first, steps=tuple(steps), funnel_order=order, breakdown=breakdown
        )
        got, _ = await clickhouse.funnel(params, 3600)
    finally:
        await clickhouse._call(lambda: clickhouse.client.command(f"SYSTEM START MERGES {table}"))
    want = ref.funnel(events, steps, order, 3600, first, first, {}, breakdown)
    assert want == {("ios" if breakdown else ""): [(2, None, None), (2, 300.0, 300.0), (2, 0.0, 300.0)]}
    assert {g["group"]: _plain(g["steps"]) for g in got} == {k: _plain(v) for k, v in want.items()}


@pytest.mark.parametrize("order", ["ordered", "strict"])
async def test_a_funnel_of_more_than_eight_steps_is_exact(clickhouse, order):
    """Masks of more than 8 steps take the wide sort key (time × 2^32 + mask, clickhouse_funnel.py):
    nine steps, the three types three times over, one user through all of them a minute apart,
    another stopping after five; no two events share a time, so no user is re-read exactly."""
    first = date(2016, 10, 3) + timedelta(days=7 * (order == "strict"))
    tag, t0 = prefix(), day_start(first) + timedelta(hours=8)
    types = ["session_start", "story_started", "story_creation"] * 3
    events = [
        Ev(f"{tag}-{user}{k}", f"{tag}-{user}", kind, t0 + timedelta(minutes=k, seconds=user == "b"))
        for user, reached in (("a", 9), ("b", 5))
        for k, kind in enumerate(types[:reached])
    ]
    assert len(await clickhouse.append(rows(events))) == len(events)
    steps = [Step(kind) for kind in types]
    params = ReportParams("funnel", first, first, steps=tuple(steps), funnel_order=order)
    got, _ = await clickhouse.funnel(params, 3600)
    want = ref.funnel(events, steps, order, 3600, first, first, {}, "")
    assert [users for users, _, _ in want[""]] == [2, 2, 2, 2, 2, 1, 1, 1, 1]
    assert {g["group"]: _plain(g["steps"]) for g in got} == {k: _plain(v) for k, v in want.items()}


def test_ordered_funnels_over_event_types_read_the_stream_aggregate():
    """funnel_streams holds times per event type and the dashboard's properties: it answers
    ordered funnels whose steps are types alone, grouped by none of those or one of them."""
    steps = (Step("session_start"), Step("story_creation"))
    base = ReportParams("funnel", date(2017, 1, 2), date(2017, 1, 9), steps=steps)
    assert from_streams(base) and from_streams(replace(base, breakdown="platform"))
    assert not from_streams(replace(base, funnel_order="strict"))
    assert not from_streams(replace(base, breakdown="theme"))
    assert not from_streams(replace(base, steps=(Step("session_start", (("theme", "space"),)), steps[1])))


async def test_erasure_removes_a_users_events(clickhouse):
    events = _events([(0, "session_start", 0, None, [], "ios", None, "s1")] * 1, date(2016, 6, 1))
    events += _events([(1, "session_start", 900, None, [], "ios", None, "s1")], date(2016, 6, 1))
    assert len(await clickhouse.append(rows(events))) == 2
    assert await clickhouse.erase_user(events[0].user_id) == 1
    assert await clickhouse.erase_user(events[0].user_id) == 0
    assert (
        await clickhouse.active_users(day_start(date(2016, 6, 1)), day_start(date(2016, 6, 2)), Filters())
        == 1
    )
    # Nor do the aggregates that name users (retention, active users, funnels) keep them.
    for table in ("retention_users", "daily_users", "funnel_streams"):
        found = await clickhouse.fetch(
            f"SELECT count() AS n FROM {clickhouse.db}.{table} WHERE user_id = {{u:String}}",
            _ch_params(u=(events[0].user_id, "String")),
        )
        assert found[0]["n"] == 0, table
    board = await clickhouse.dashboard(DashboardParams(date(2016, 6, 1), date(2016, 6, 1)), date(2016, 6, 1))
    assert board.active[0]["dau"] == 1


async def test_retention_deletes_old_events_and_their_funnel_times_and_keeps_counts(clickhouse):
    """The retention job's policy on this store: events before the cut-off and their times in
    funnel_streams go (a month wholly before it, and the old part of the cut-off's month);
    later ones and the day counts stay. 1999 is this test's alone."""
    first = date(1999, 11, 20)
    offsets = [0, 20 * 86400, 30 * 86400]  # Nov 20, Dec 10, Dec 20
    raw = [(0, kind, offset, None, [], "ios", None, "s1") for offset in offsets for kind in TYPES[:2]]
    events = _events(raw, first)
    await clickhouse.append(rows(events))
    cutoff = day_start(date(1999, 12, 15))
    funnel = ReportParams(
        "funnel", first, date(1999, 12, 31), steps=(Step("session_start"), Step("story_started"))
    )
    assert (await clickhouse.funnel(funnel, 3600))[0][0]["steps"][0][0] == 1
    counted = await clickhouse.fetch(
        f"SELECT sum(events) AS n FROM {clickhouse.db}.daily_event_counts WHERE toYear(day) = 1999"
    )

    assert await clickhouse.delete_older(cutoff, dry_run=True) == {"events": 4}
    assert (await clickhouse.delete_older(cutoff))["events"] == 4
    assert await clickhouse.delete_older(cutoff) == {"events": 0, "funnel_streams": 0}

    left = await clickhouse.fetch(
        f"SELECT event_id FROM {clickhouse.db}.events WHERE user_id = {{u:String}} ORDER BY event_id",
        _ch_params(u=(events[0].user_id, "String")),
    )
    assert [r["event_id"] for r in left] == [e.event_id for e in events[4:]]
    times = await clickhouse.fetch(
        f"SELECT arraySort(groupArrayArray(times)) AS t FROM {clickhouse.db}.funnel_streams"
        " WHERE user_id = {u:String}",
        _ch_params(u=(events[0].user_id, "String")),
    )
    kept = day_start(date(1999, 12, 20)) - datetime(1970, 1, 1, tzinfo=UTC)
    assert times[0]["t"] == [kept // timedelta(microseconds=1)] * 2
    # The funnel now starts at the kept day only; the counts naming nobody are untouched.
    assert (await clickhouse.funnel(funnel, 3600))[0][0]["steps"][0][0] == 1
    again = await clickhouse.fetch(
        f"SELECT sum(events) AS n FROM {clickhouse.db}.daily_event_counts WHERE toYear(day) = 1999"
    )
    assert again == counted and counted[0]["n"] == 6


async def test_an_aggregate_new_to_a_database_is_filled_once_from_its_events(clickhouse):
    """An aggregate added by a new version (or dropped) is created and filled from the events
    already stored, exactly once: the dashboard and retention answer as before."""
    from analytics_svc.eventstore.clickhouse_schema import create_schema

    first = date(2016, 9, 5)
    kinds = [("session_start", 1), ("story_creation", 2), ("story_creation", 30), ("page_view", 200)]
    raw = [(u, t, q * 3600, "space", ["frozen"], "ios", 120.0, "s1") for u in range(3) for t, q in kinds]
    events = _events(raw, first)
    await clickhouse.append(rows(events))
    board_params = DashboardParams(first, first + timedelta(days=9))
    retention = ReportParams("retention", first, first + timedelta(days=9), periods=3)
    funnel = ReportParams(
        "funnel", first, first + timedelta(days=9), steps=(Step("session_start"), Step("story_creation"))
    )

    async def answers():
        board = await clickhouse.dashboard(board_params, first)
        return (
            board.active,
            sorted(map(dict, board.counts), key=str),
            board.content,
            await clickhouse.retention(retention),
            await clickhouse.funnel(funnel, 24 * 3600),
        )

    before = await answers()
    assert before[0][0]["mau"] == 3 and before[3][0]
    assert before[4][0][0]["steps"] == [(3, None, None), (3, 3600.0, 3600.0)]
    for table in ("daily_users", "daily_event_counts", "daily_content", "retention_users", "funnel_streams"):
        await clickhouse._call(clickhouse.client.command, f"DROP VIEW {clickhouse.db}.{table}_mv")
        await clickhouse._call(clickhouse.client.command, f"DROP TABLE {clickhouse.db}.{table}")
    await clickhouse._call(create_schema, clickhouse.client, clickhouse.db)
    assert await answers() == before


async def test_a_database_of_an_earlier_version_gets_the_columns_and_codecs_of_this_one(clickhouse):
    """Tables created by an earlier version (here: events without `stored_at`, times without
    GCD; funnel_streams' times without GCD) keep their rows and end as a fresh database's:
    the missing column with its default, the codecs declared now."""
    import re

    from analytics_svc.eventstore.clickhouse_schema import AGGREGATES, SCHEMA, create_schema

    client = clickhouse.client
    older_codec = "CODEC(Delta, ZSTD(3))"

    def older_version() -> None:
        for db in ("earlier_version", "this_version"):
            client.command(f"DROP DATABASE IF EXISTS {db}")
        client.command("CREATE DATABASE earlier_version")
        events = re.sub(r"\n\s*stored_at [^\n]*", "", SCHEMA.format(db="earlier_version"))
        client.command(events.replace("CODEC(GCD, Delta, ZSTD(3))", older_codec))
        streams = AGGREGATES["funnel_streams"][0].format(db="earlier_version")
        client.command(streams.replace("CODEC(GCD, Delta, ZSTD(3))", older_codec))
        client.command(
            "INSERT INTO earlier_version.events (event_id, user_id, event_type, ts, received_at)"
            " VALUES ('e-1', 'u-1', 'session_start', '2015-03-02 10:00:00', '2015-03-02 10:00:01')"
        )
        client.command(  # what that version's view had written for the event
            "INSERT INTO earlier_version.funnel_streams"
            " VALUES ('session_start', 'u-1', '2015-03-01', '', '', '', [1425290400000000])"
        )

    def columns(db: str) -> dict:
        result = client.query(
            "SELECT table, name, type, default_expression, compression_codec FROM system.columns"
            " WHERE database = {d:String} ORDER BY table, position",
            parameters={"d": db},
        )
        return {(t, name): rest for t, name, *rest in result.result_rows}

    await clickhouse._call(older_version)
    assert ("events", "stored_at") not in await clickhouse._call(columns, "earlier_version")
    await clickhouse._call(create_schema, client, "earlier_version")
    await clickhouse._call(create_schema, client, "this_version")
    upgraded = await clickhouse._call(columns, "earlier_version")
    assert upgraded == await clickhouse._call(columns, "this_version")
    assert upgraded[("events", "ts")][2] == "CODEC(GCD, Delta(8), ZSTD(3))"
    assert upgraded[("funnel_streams", "times")][2] == "CODEC(GCD, Delta(8), ZSTD(3))"
    stored = await clickhouse.fetch(
        "SELECT event_id, stored_at > toDateTime64('2020-01-01', 6) AS defaulted FROM earlier_version.events"
    )
    assert stored == [{"event_id": "e-1", "defaulted": 1}]
    times = await clickhouse.fetch("SELECT user_id, times FROM earlier_version.funnel_streams")
    assert times == [{"user_id": "u-1", "times": [1425290400000000]}]


async def test_on_a_cluster_mutations_go_to_the_local_tables_on_cluster(clickhouse):
    """A Distributed table takes no ALTER … DELETE: with a cluster named, erasure and retention
    mutate clickhouse_cluster.sql's `*_local` tables ON CLUSTER (parsed by the engine here:
    no cluster to run them on)."""
    from analytics_svc.eventstore.clickhouse import ClickHouseEventStore

    on_cluster = ClickHouseEventStore(None, "storyverse", cluster="story`verse")
    sql = on_cluster.mutation("funnel_streams", "DELETE WHERE user_id = {u:String}")
    assert sql == (
        "ALTER TABLE storyverse.funnel_streams_local ON CLUSTER `story\\`verse`"
        " DELETE WHERE user_id = {u:String}"
    )
    parsed = await clickhouse.fetch(
        "SELECT formatQuerySingleLine({q:String}) AS f", _ch_params(q=(sql, "String"))
    )
    assert parsed[0]["f"].endswith("_local ON CLUSTER `story\\`verse` (DELETE WHERE user_id = {u:String})")
    single = clickhouse.mutation("events", "DELETE WHERE 1")
    assert single == f"ALTER TABLE {clickhouse.db}.events DELETE WHERE 1"


def test_the_cluster_ddl_has_the_columns_of_the_schema():
    """clickhouse_cluster.sql repeats the table's columns for ON CLUSTER: they must not drift."""
    from pathlib import Path

    from analytics_svc.eventstore import clickhouse_schema as ch

    def columns(sql: str, table: str) -> list[str]:
        body = sql[sql.index(table) :]
        body = body[body.index("(") + 1 : body.index("\n)")]
        return [" ".join(line.split()) for line in body.strip().splitlines()]

    cluster = (Path(ch.__file__).parent / "clickhouse_cluster.sql").read_text()
    assert columns(cluster, "storyverse.events_local ON CLUSTER") == columns(ch.SCHEMA, "{db}.events")
    assert "ORDER BY (user_id, ts, event_id)" in cluster and "PARTITION BY toYYYYMM(ts)" in cluster
    assert "cityHash64(user_id)" in cluster and "TO VOLUME 'cold'" in cluster
    # Each aggregate: the same columns on every shard, kept by the same SELECT over events_local.

    def aggregate_columns(sql: str, table: str) -> str:
        body = sql[sql.index(table) :]
        return " ".join(body[body.index("(") + 1 : body.index(") ENGINE")].split())

    flat = " ".join(cluster.split())
    for table, (create, select) in ch.AGGREGATES.items():
        local = f"storyverse.{table}_local ON CLUSTER"
        assert aggregate_columns(cluster, local) == aggregate_columns(create, "{db}." + table), table
        view = ch.aggregate_select(select, "storyverse").replace(
            "storyverse.events", "storyverse.events_local"
        )
        assert f"TO storyverse.{table}_local AS {' '.join(view.split())};" in flat, table
        assert f"storyverse.{table} ON CLUSTER storyverse AS storyverse.{table}_local" in flat, table


async def test_the_retention_models_daily_activity_is_the_same_on_both_backends(analytics, db, clickhouse):
    """The churn job's input (analytics_svc/churn): per user and day, channels, evening
    sessions, the day's last known context, and each user's first event."""
    rng = random.Random(5)
    kinds = [*TYPES, "story_view", "story_completed", "story_shared"]
    raw = [
        (rng.randrange(6), rng.choice(kinds), rng.randrange(0, 6 * 96) * 900, rng.choice([None, "space"]),
         [], rng.choice([None, "ios", "web"]), None, rng.choice([None, "s1"]))
        for _ in range(300)
    ]  # fmt: skip
    first_day = date(2015, 3, 2)  # no other test uses 2015
    events = _events(raw, first_day)
    await _load(db, clickhouse, events, 0, first_day, seed=5)
    lo, hi = day_start(first_day), day_start(first_day + timedelta(days=6))
    postgres = PostgresEventStore(db)

    def normal(rows) -> list[dict]:
        context = ("age_group", "device_type", "platform")
        out = [{k: (v or "") if k in context else v for k, v in dict(r).items()} for r in rows]
        return sorted(out, key=lambda r: (r["day"], r["user_id"]))

    expected = normal(await postgres.daily_activity(lo, hi))
    got = normal(await clickhouse.daily_activity(lo, hi))
    assert len(expected) >= 20 and any(r["evening_sessions"] for r in expected)
    assert got == expected
    users = sorted({e.user_id for e in events})
    assert await clickhouse.first_seen(users) == await postgres.first_seen(users)
    assert await clickhouse.first_seen([]) == {}
