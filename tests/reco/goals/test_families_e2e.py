"""Between families end to end: events in through the gateway's ingestion route, "stories
families like yours loved" out through its recommendation route, erasure through its admin
route. Only the story its author shared and five families loved is shown; the answer names no
family; after one of the five is erased, it is not shown any more."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from reco_svc.families import K_FAMILIES
from tests.reco.serving.helpers import eventually


def _event(user: str, event_type: str, story_id: str, group: str = "6-8", **props) -> dict:
    return {
        "event_id": f"evt-{uuid.uuid4().hex}",
        "user_id": user,
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "event_type": event_type,
        "properties": {"story_id": story_id, "age_group": group, "device_type": "tablet", **props},
    }


async def _record(http, url: str, events: list[dict]) -> None:
    async with http.post(f"{url}/api/analytics/events:batch", json={"events": events}) as resp:
        body = await resp.json()
        assert resp.status == 200 and not body.get("rejected"), body


async def _families(http, url: str, user: str, group: str = "6-8") -> tuple[list[dict], str]:
    async with http.get(f"{url}/api/recommendations/families/{user}?age_group={group}&limit=50") as resp:
        text = await resp.text()
        assert resp.status == 200, text
        return json.loads(text)["list"].get("items", []), text


async def test_stories_families_like_yours_loved(http, gateway_url, reco_live):
    tok = uuid.uuid4().hex[:8]
    author, other_author = f"fam-{tok}-author", f"fam-{tok}-other"
    shared, unshared, few = f"st-{tok}-shared", f"st-{tok}-unshared", f"st-{tok}-few"
    readers = [f"fam-{tok}-r{i}" for i in range(K_FAMILIES)]
    created = {"theme": "friendship", "moral_lesson": "kindness"}
    events = [
        _event(author, "story_creation", shared, **created),
        _event(author, "story_shared", shared),
        _event(other_author, "story_creation", unshared, **created),
        _event(author, "story_creation", few, **created),
        _event(author, "story_shared", few),
        # Somebody else sharing a story does not make it public: only its author can.
        _event(readers[0], "story_shared", unshared),
    ]
    for reader in readers:
        events += [_event(reader, "story_completed", shared), _event(reader, "story_completed", unshared)]
    events += [_event(r, "story_completed", few) for r in readers[: K_FAMILIES - 1]]
    await _record(http, gateway_url, events)

    asker = f"fam-{tok}-asker"

    async def shown():
        items, _ = await _families(http, gateway_url, asker)
        return [x for x in items if x["id"] in (shared, unshared, few)]

    items = await eventually(shown, timeout=10)
    assert [x["id"] for x in items] == [shared], items
    # Five families loved the unshared story too (one even shared it): not its author's share, never shown.
    assert items[0]["reason"] == f"loved by {K_FAMILIES} families like yours"
    assert items[0]["kind"] == "story" and items[0]["min_age"] <= 6 and items[0]["max_age"] >= 8
    _, text = await _families(http, gateway_url, asker)
    for someone in (author, other_author, *readers, tok):
        assert someone not in text.replace(shared, "").replace(few, "").replace(unshared, "")
    # Families like yours: another age group's families did not read it.
    older, _ = await _families(http, gateway_url, asker, "9-12")
    assert shared not in [x["id"] for x in older]
    # A reader is not shown what it loved already, nor the author its own story.
    for who in (readers[1], author):
        mine, _ = await _families(http, gateway_url, who)
        assert shared not in [x["id"] for x in mine]

    # The right to erasure: one of the five families goes, and with it the story's fifth backer.
    async with http.delete(f"{gateway_url}/api/admin/users/{readers[1]}") as resp:
        assert resp.status == 200, await resp.text()
        audit = (await resp.json())["audit_id"]

    async def completed():
        async with http.get(f"{gateway_url}/api/admin/erasures/{audit}") as resp:
            return (await resp.json())["state"] == "completed"

    assert await eventually(completed, timeout=60, interval=0.2)
    assert await shown() == []
