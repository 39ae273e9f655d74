"""Educational goals end to end: a parent sets, lists and clears a child's goals over HTTP through
the gateway, and the lists lean toward them with the reason, within the age rule."""

from __future__ import annotations

import json
import uuid

from reco_svc.goals import lift

JSON = {"Content-Type": "application/json"}


def _child() -> str:
    return f"kid-{uuid.uuid4().hex[:10]}"


async def _goals(http, url: str, child: str) -> dict:
    async with http.get(f"{url}/api/recommendations/goals/{child}") as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def _set(http, url: str, child: str, goals: list[str]) -> tuple[int, dict]:
    async with http.put(f"{url}/api/recommendations/goals/{child}", json={"goals": goals}) as resp:
        return resp.status, await resp.json()


async def _lessons(http, url: str, child: str, limit: int) -> list[dict]:
    body = {"user_id": child, "context": {"age_group": "6-8"}, "types": ["moral_lesson"], "limit": limit}
    async with http.post(f"{url}/api/recommendations", json=body, headers=JSON) as resp:
        assert resp.status == 200, await resp.text()
        return (await resp.json())["lists"][0]["items"]


async def test_a_parent_sets_lists_and_clears_a_childs_goals(http, gateway_url, reco_live):
    child = _child()
    first = await _goals(http, gateway_url, child)
    assert first.get("goals", []) == []
    available = {g["id"]: g["kind"] for g in first["available"]}
    for lesson in ("patience", "honesty", "teamwork"):
        assert available[lesson] == "moral_lesson"
    assert available["reading-practice"] == "skill"

    status, body = await _set(http, gateway_url, child, ["patience", "no-such-goal"])
    assert status == 400, body
    assert {d["field"] for d in body["details"]} == {"goals[1]"}
    status, body = await _set(http, gateway_url, child, ["Patience!"])  # the contract's pattern
    assert status == 400 and body["details"][0]["field"].startswith("goals"), body

    status, body = await _set(http, gateway_url, child, ["patience", "reading-practice"])
    assert status == 200, body
    assert [g["id"] for g in body["goals"]] == ["patience", "reading-practice"]
    assert [g["id"] for g in (await _goals(http, gateway_url, child))["goals"]] == [
        "patience",
        "reading-practice",
    ]
    async with http.get(f"{gateway_url}/api/recommendations/overview/personalization") as resp:
        overview = await resp.json()
        assert resp.status == 200, overview
    per_goal = {g["goal"]["id"]: g["children"] for g in overview["goals"]}
    assert overview["children_with_goals"] >= 1 and per_goal["patience"] >= 1
    assert per_goal["reading-practice"] >= 1 and child not in json.dumps(overview)

    async with http.delete(f"{gateway_url}/api/recommendations/goals/{child}") as resp:
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["cleared"] == 2
    assert (await _goals(http, gateway_url, child)).get("goals", []) == []


async def test_lists_lean_toward_a_goal_with_the_reason_and_within_the_age_rule(http, gateway_url, reco_live):
    child, limit = _child(), 5
    base = await _lessons(http, gateway_url, child, limit + lift(limit) + 2)
    target = base[limit]  # just outside a list of `limit`: the lean brings it in
    assert target["id"] not in [x["id"] for x in base[:limit]]

    status, body = await _set(http, gateway_url, child, [target["id"]])
    assert status == 200, body
    leaned = await _lessons(http, gateway_url, child, limit)
    ids = [x["id"] for x in leaned]
    assert ids == [x["id"] for x in base[: limit - lift(limit)]] + [target["id"]] + [
        x["id"] for x in base[limit - lift(limit) : limit - 1]
    ]
    reasons = {x["id"]: x["reason"] for x in leaned}
    assert reasons[target["id"]] == f"teaches {target['name'].lower()}, a goal you set"
    for item in leaned:  # the age rule: the whole 6-8 group lies within the item's ages
        assert item["min_age"] <= 6 and item["max_age"] >= 8, item

    async with http.delete(f"{gateway_url}/api/recommendations/goals/{child}") as resp:
        assert resp.status == 200
    again = await _lessons(http, gateway_url, child, limit)
    assert [x["id"] for x in again] == [x["id"] for x in base[:limit]]
    assert not any(x["reason"].endswith("a goal you set") for x in again)
