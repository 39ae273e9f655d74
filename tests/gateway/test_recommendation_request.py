"""POST /api/recommendations takes the seed's Recommendation Request as written, over real HTTP
through the gateway to the real recommendation service."""

from __future__ import annotations

import json
import uuid

import pytest

# The seed's Recommendation Request (seed, "Data Models"), verbatim.
SEED_REQUEST = """{
  "user_id": "user-789012",
  "context": {
    "current_story_id": "story-123456",
    "selected_universes": ["dragon-ball"],
    "selected_characters": ["goku"],
    "age_group": "6-8",
    "previous_themes": ["adventure", "friendship"],
    "device_type": "tablet"
  },
  "recommendation_types": [
    "universe",
    "character",
    "theme"
  ],
  "limit": 5
}"""
# What a new user sent from the seed's example (issue 15), verbatim: `types`, plural names.
ISSUE_REQUEST = (
    '{"user_id":"user-789012","context":{"current_story_id":"story-123456","selected_universes":'
    '["dragon-ball"],"selected_characters":["goku"],"age_group":"6-8"},"limit":5,'
    '"types":["universes","characters","themes","stories"]}'
)
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def stories(http, gateway_url):
    """Two stories for 6-8 year olds in the catalog (the admin route applies them at once)."""
    ids = [f"st-{uuid.uuid4().hex[:10]}" for _ in range(2)]
    for story_id, universe in zip(ids, ("pirate-isles", "ocean-kingdom"), strict=True):
        body = {"name": f"A story in {universe}", "min_age": 6, "max_age": 12, "universes": [universe]}
        url = f"{gateway_url}/api/admin/catalog/story/{story_id}"
        async with http.put(url, json=body) as resp:
            assert resp.status == 200, await resp.text()
    return ids


async def _recommend(http, gateway_url, body: str) -> tuple[int, dict]:
    async with http.post(f"{gateway_url}/api/recommendations", data=body, headers=JSON) as resp:
        return resp.status, await resp.json()


async def test_the_issues_request_with_types_and_plural_names_gets_four_lists(http, gateway_url, stories):
    status, body = await _recommend(http, gateway_url, ISSUE_REQUEST)
    assert status == 200, body
    lists = body["lists"]
    assert [x["recommendation_type"] for x in lists] == ["universe", "character", "theme", "story"]
    for found in lists:
        assert found["items"], found["recommendation_type"]
        assert len(found["items"]) <= 5
    # "themes" is what GET /api/recommendations/themes gives: themes and moral lessons.
    assert {i["kind"] for i in lists[2]["items"]} == {"theme", "moral_lesson"}
    assert "dragon-ball" not in {i["id"] for i in lists[0]["items"]}  # already selected


async def test_the_seeds_request_verbatim_gets_its_three_lists(http, gateway_url):
    status, body = await _recommend(http, gateway_url, SEED_REQUEST)
    assert status == 200, body
    lists = body["lists"]
    assert [x["recommendation_type"] for x in lists] == ["universe", "character", "theme"]
    assert all(x["items"] for x in lists)
    assert {i["kind"] for i in lists[2]["items"]} == {"theme"}  # the singular: themes only


async def test_without_types_every_kind_comes_back(http, gateway_url, stories):
    request = json.loads(SEED_REQUEST)
    del request["recommendation_types"]
    status, body = await _recommend(http, gateway_url, json.dumps(request))
    assert status == 200, body
    assert [x["recommendation_type"] for x in body["lists"]] == ["universe", "character", "theme", "story"]
    assert all(x["items"] for x in body["lists"])


async def test_plural_names_in_recommendation_types_and_camel_case_json(http, gateway_url):
    request = json.loads(SEED_REQUEST)
    request["recommendationTypes"] = ["universes", "moral_lessons", "universes"]
    del request["recommendation_types"]
    status, body = await _recommend(http, gateway_url, json.dumps(request))
    assert status == 200, body
    assert [x["recommendation_type"] for x in body["lists"]] == ["universe", "moral_lesson"]


async def test_both_field_names_join_and_an_unknown_type_is_refused_naming_the_field(http, gateway_url):
    request = json.loads(SEED_REQUEST)
    request["types"] = ["stories", "universes"]
    status, body = await _recommend(http, gateway_url, json.dumps(request))
    assert status == 200, body
    assert [x["recommendation_type"] for x in body["lists"]] == ["universe", "character", "theme", "story"]
    del request["recommendation_types"]
    request["types"] = ["spaceships"]
    status, body = await _recommend(http, gateway_url, json.dumps(request))
    assert status == 400
    assert body["details"][0]["field"] == "types"
    assert "universes" in body["details"][0]["description"]
