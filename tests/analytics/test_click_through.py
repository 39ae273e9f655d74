"""Recommendation click-through per kind and model version (GetRecommendationClickThrough),
over gRPC on loopback against a real PostgreSQL: raw events, rollups and both agree with a
reference computed here from the events sent."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import grpc
import pytest
from storyverse.analytics.v1 import analytics_service_pb2 as pb
from storyverse.analytics.v1 import events_pb2

from analytics_svc.queries import daily
from analytics_svc.rollups import rebuild as rollups
from common.errors import violations_from_trailers
from tests.events import event

FIRST = date(2022, 4, 4)  # this module owns April 2022
DAYS = 6
LAST = FIRST + timedelta(days=DAYS - 1)
KINDS = ["universe", "character", "theme", "moral_lesson", "story"]
VERSIONS = ["v20220401T020000-aa11", "v20220403T020000-bb22", ""]  # "": an older client
AGES = ["3-5", "6-8", "9-12"]
PLATFORMS = ["ios", "android"]
MIGRATION = daily.__file__.replace("queries/daily.py", "migrations/0008_recommendation_clicks.sql")


def recommendation_events(seed: int) -> list[events_pb2.Event]:
    """Carousels: each item shown, some clicked, under the list's kind and version; plus
    events of other types that must not count."""
    rng = random.Random(seed)
    prefix = uuid.uuid4().hex[:8]
    events = []
    for n in range(140):
        day = FIRST + timedelta(days=rng.randrange(DAYS))
        ts = datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60), tzinfo=UTC)
        kind, version = rng.choice(KINDS), rng.choice(VERSIONS)
        context = {"age_group": rng.choice(AGES), "platform": rng.choice(PLATFORMS), "device_type": "tablet"}
        user = f"ctr-{prefix}-{n % 17}"
        for position in range(rng.randint(1, 4)):
            item = f"{kind}-{rng.randrange(9)}"
            props = {"recommendation_type": kind, "item_id": item, "position": position, **context}
            if version:
                props["model_version"] = version
            kinds = ["recommendation_shown"] + (["recommendation_clicked"] if rng.random() < 0.3 else [])
            for event_type in kinds:
                events.append(_event(user, event_type, ts, props))
                ts += timedelta(seconds=5)
        events.append(_event(user, "story_creation", ts, {"theme": "space", **context}))
    return events


def _event(user: str, event_type: str, ts: datetime, props: dict) -> events_pb2.Event:
    return event(
        user_id=user,
        event_type=event_type,
        timestamp=ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
        properties=props,
    )


def reference(events: list[events_pb2.Event], first: date, last: date, **filters: str) -> dict:
    """(kind, version) → [shown, clicked] over the range and filters."""
    cells: dict[tuple[str, str], Counter] = {}
    for e in events:
        p = e.properties
        day = datetime.fromisoformat(e.timestamp.replace("Z", "+00:00")).date()
        if not e.event_type.startswith("recommendation_") or not first <= day <= last:
            continue
        if any(getattr(p, name) != value for name, value in filters.items()):
            continue
        counts = cells.setdefault((p.recommendation_type, p.model_version), Counter())
        counts[e.event_type] += 1
    return {key: [c["recommendation_shown"], c["recommendation_clicked"]] for key, c in cells.items()}


def figures(reply: pb.GetRecommendationClickThroughResponse) -> dict:
    return {
        (r.recommendation_type, r.model_version): [r.shown, r.clicked]
        for r in reply.by_model_version_and_type
    }


def assert_consistent(reply: pb.GetRecommendationClickThroughResponse, want: dict) -> None:
    """Totals per kind, per version and overall add up the cells, with their rates, most shown first."""
    assert figures(reply) == want
    for rows, key in ((reply.by_type, 0), (reply.by_model_version, 1)):
        sums: dict[str, list[int]] = {}
        for cell, (shown, clicked) in want.items():
            total = sums.setdefault(cell[key], [0, 0])
            total[0] += shown
            total[1] += clicked
        got = {(r.recommendation_type, r.model_version)[key]: [r.shown, r.clicked] for r in rows}
        assert got == sums
        assert [r.shown for r in rows] == sorted((r.shown for r in rows), reverse=True)
        assert all(r.click_through_rate == pytest.approx(r.clicked / r.shown) for r in rows if r.shown)
        assert all(not (r.recommendation_type and r.model_version) for r in rows)
    assert [reply.total.shown, reply.total.clicked] == [
        sum(v[0] for v in want.values()),
        sum(v[1] for v in want.values()),
    ]
    total = reply.total
    assert total.click_through_rate == pytest.approx(total.clicked / total.shown if total.shown else 0)
    order = [r.model_version for r in reply.by_model_version]
    assert [order.index(r.model_version) for r in reply.by_model_version_and_type] == sorted(
        order.index(r.model_version) for r in reply.by_model_version_and_type
    )


async def ask(stub, first: date = FIRST, last: date = LAST, **filters: str):
    request = pb.GetRecommendationClickThroughRequest(start_date=str(first), end_date=str(last), **filters)
    return await stub.GetRecommendationClickThrough(request)


async def test_click_through_from_raw_events_and_rollups_agree_with_the_reference(stub, analytics):
    events = recommendation_events(seed=11)
    for i in range(0, len(events), 500):
        reply = await stub.RecordEvents(pb.RecordEventsRequest(events=events[i : i + 500]))
        assert reply.result.rejected == 0, reply.result.rejections
    want = reference(events, FIRST, LAST)
    assert {version for _, version in want} == set(VERSIONS) and {kind for kind, _ in want} == set(KINDS)

    raw = await ask(stub)
    assert raw.source == "raw" and (raw.start_date, raw.end_date) == (str(FIRST), str(LAST))
    assert_consistent(raw, want)

    await rollups.run(analytics.pool, FIRST, FIRST + timedelta(days=2))
    mixed = await ask(stub)
    assert mixed.source == "rollups+raw"
    assert_consistent(mixed, want)
    await rollups.run(analytics.pool, FIRST, LAST)
    rolled = await ask(stub)
    assert rolled.source == "rollups"
    assert_consistent(rolled, want)

    # Filters and a shorter range, from the rollups.
    for filters in ({"age_group": "6-8"}, {"platform": "android", "age_group": "3-5"}, {"device_type": "tv"}):
        assert_consistent(await ask(stub, **filters), reference(events, FIRST, LAST, **filters))
    middle = FIRST + timedelta(days=2), FIRST + timedelta(days=3)
    assert_consistent(await ask(stub, *middle), reference(events, *middle))

    # Days rolled up before migration 0008 (format 2, no click rows) are read raw, and the
    # migration's backfill writes the same rows the rollup does.
    pool = analytics.pool
    old = [FIRST, FIRST + timedelta(days=1)]
    rows_before = await click_rows(pool)
    async with pool.acquire() as conn:
        await conn.execute("UPDATE rollup_days SET version = 2 WHERE day = ANY($1::date[])", old)
        await conn.execute("DELETE FROM daily_recommendation_clicks WHERE day = ANY($1::date[])", old)
    upgraded = await ask(stub)
    assert upgraded.source == "rollups+raw"
    assert_consistent(upgraded, want)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(open(MIGRATION).read())  # noqa: SIM115 - the migration as deployed
    assert await click_rows(pool) == rows_before
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM rollup_days WHERE day BETWEEN $1 AND $2 AND version = 3", FIRST, LAST
        )
        == DAYS
    )
    assert_consistent(await ask(stub), want)


async def click_rows(pool) -> list[tuple]:
    rows = await pool.fetch(
        "SELECT * FROM daily_recommendation_clicks WHERE day BETWEEN $1 AND $2 ORDER BY 1, 2, 3, 4, 5, 6",
        FIRST,
        LAST,
    )
    return [tuple(r.values()) for r in rows]


async def test_a_range_without_recommendations_answers_zeros(stub):
    reply = await ask(stub, date(2022, 4, 20), date(2022, 4, 21))
    assert (reply.total.shown, reply.total.clicked, reply.total.click_through_rate) == (0, 0, 0.0)
    assert not reply.by_type and not reply.by_model_version and not reply.by_model_version_and_type


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"start_date": "2022-04-10", "end_date": "2022-04-01"}, "start_date"),
        ({"start_date": "2020-01-01", "end_date": "2022-04-01"}, "start_date"),
        ({"age_group": "adults"}, "age_group"),
        ({"end_date": "01/04/2022"}, "end_date"),
    ],
)
async def test_bad_requests_name_the_field(stub, request_fields, field):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetRecommendationClickThrough(pb.GetRecommendationClickThroughRequest(**request_fields))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in violations_from_trailers(caught.value.trailing_metadata())] == [field]


async def test_model_version_is_stored_and_checked_like_the_other_properties(stub, db):
    props = {"recommendation_type": "story", "item_id": "story-1", "model_version": "v20220401T020000-aa11"}
    good = event(event_type="recommendation_clicked", properties=props)
    assert (await stub.RecordEvent(pb.RecordEventRequest(event=good))).result.accepted == 1
    stored = await db.fetchval(
        "SELECT props->>'model_version' FROM events WHERE event_id = $1", good.event_id
    )
    assert stored == "v20220401T020000-aa11"
    bad = event(event_type="recommendation_clicked", properties={**props, "model_version": "v 1 <b>"})
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.RecordEvent(pb.RecordEventRequest(event=bad))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    violations = violations_from_trailers(caught.value.trailing_metadata())
    assert [v.field for v in violations] == ["event.properties.model_version"]
