"""Through the real services: reading events in over the bus -> "continue where you stopped" and
"read again" in the child's story list with their reasons, a small share of it, never a story
outside the child's ages, and gone with the child's erasure."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from storyverse.analytics.v1 import events_pb2

from tests.reco.serving.helpers import assert_age_safe, eventually, kept, recommend, record, token, upsert


def reading(child: str, kind: str, story_id: str, at: datetime, position: int | None = None):
    props = events_pb2.EventProperties(story_id=story_id, age_group="6-8", device_type="tablet")
    if position is not None:
        props.position = position
        props.duration = 3.0 * max(position, 1)
    return events_pb2.Event(
        event_id=f"evt-{uuid.uuid4().hex}",
        user_id=child,
        timestamp=at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        event_type=kind,
        properties=props,
    )


async def test_continue_and_read_again_appear_with_reasons_within_the_age_rule_until_erasure(
    reco_stub, analytics_stub, db, http, gateway_url
):
    t = token()
    halfway, loved, older, early = (f"{t}-halfway", f"{t}-loved", f"{t}-older", f"{t}-early")
    for story, low, high in ((halfway, 3, 17), (loved, 3, 17), (older, 9, 12), (early, 3, 17)):
        await upsert(reco_stub, "story", story, low, high, name=f"Story {story}")
    child = f"kid-{uuid.uuid4().hex[:10]}"
    start = datetime.now(UTC) - timedelta(hours=3)
    events = [
        reading(child, "story_view", loved, start, 100),
        reading(child, "story_completed", loved, start + timedelta(minutes=5)),
        reading(child, "story_view", loved, start + timedelta(hours=1), 100),  # read again
        reading(child, "story_view", older, start + timedelta(hours=2), 50),  # a 9-12 story
        reading(child, "story_view", early, start + timedelta(hours=2, minutes=10), 10),  # abandoned early
        reading(child, "story_view", halfway, start + timedelta(hours=2, minutes=20), 40),
    ]
    await record(analytics_stub, events)
    await kept(db, [e.event_id for e in events])

    async def with_both():
        lists = await recommend(reco_stub, child, "6-8", ["story"], limit=10)
        items = {i.id: i for i in lists[0].items}
        return lists[0].items if halfway in items and loved in items else None

    items = await eventually(with_both, timeout=10)
    assert items, "the reading candidates did not appear"
    assert [i.id for i in items[:2]] == [halfway, loved]
    assert items[0].reason == "continue where you stopped (40 % read)"
    assert items[1].reason == "read again: you read it 2 times"
    ids = [i.id for i in items]
    assert older not in ids and early not in ids
    assert_age_safe(items, "6-8")

    # A small share: one of a list of 5 (the most recent reading first).
    five = (await recommend(reco_stub, child, "6-8", ["story"], limit=5))[0].items
    reasons = [i.reason for i in five if i.reason.startswith(("continue where", "read again"))]
    assert reasons == ["continue where you stopped (40 % read)"], [(i.id, i.reason) for i in five]
    # Story lists only.
    other = await recommend(reco_stub, child, "6-8", ["character", "themes"], limit=10)
    assert not any(i.reason.startswith(("continue where", "read again")) for x in other for i in x.items)
    # The 9-12 story is the one being left halfway by a child of 9-12: shown to that group only.
    older_list = (await recommend(reco_stub, child, "9-12", ["story"], limit=10))[0].items
    assert older in [i.id for i in older_list]
    assert_age_safe(older_list, "9-12")

    async with http.delete(f"{gateway_url}/api/admin/users/{child}") as resp:
        assert resp.status == 200, await resp.text()
        audit = (await resp.json())["audit_id"]

    async def completed():
        async with http.get(f"{gateway_url}/api/admin/erasures/{audit}") as resp:
            return (await resp.json())["state"] == "completed"

    assert await eventually(completed, timeout=60, interval=0.2)
    after = (await recommend(reco_stub, child, "6-8", ["story"], limit=10))[0].items
    assert not any(i.reason.startswith(("continue where", "read again")) for i in after)
    assert await db.fetchval("SELECT count(*) FROM reco_interactions WHERE user_id = $1", child) == 0
