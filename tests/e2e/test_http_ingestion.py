"""The seed's example event through the real gateway into the real analytics service."""

from __future__ import annotations

import copy
import json

from tests.events import SEED_EVENT, event_dict
from tests.feedback.conftest import eventually

# Kafka mode (SV_TEST_PROFILE=cluster) stores events asynchronously, through the processor.
STORED_WITHIN = 30.0


async def _row(db, sql: str, *args):
    async def found():
        return await db.fetchrow(sql, *args)

    return await eventually(found, timeout=STORED_WITHIN, interval=0.1)


async def test_seed_event_verbatim_then_duplicate(gateway_url, http, db):
    seed = copy.deepcopy(SEED_EVENT)
    seed["event_id"] = "evt-http-123456"
    async with http.post(f"{gateway_url}/api/analytics/events", json=seed) as response:
        assert response.status == 200, await response.text()
        first = await response.json()
    # Duplicates are recognised once stored (at once in direct mode, after the processor in Kafka mode).
    await _row(db, "SELECT 1 FROM events WHERE event_id = 'evt-http-123456'")
    async with http.post(f"{gateway_url}/api/analytics/events", json=seed) as response:
        second = await response.json()
    assert first["result"]["accepted"] == 1 and first["result"]["duplicates"] == 0
    assert second["result"]["accepted"] == 0 and second["result"]["duplicates"] == 1
    assert await db.fetchval("SELECT count(*) FROM events WHERE event_id = 'evt-http-123456'") == 1


async def test_missing_user_id_and_bad_timestamp_give_400_naming_the_field_and_are_kept(
    gateway_url, http, db
):
    for change, field in (({"user_id": None}, "user_id"), ({"timestamp": "last tuesday"}, "timestamp")):
        bad = event_dict(**change)
        async with http.post(f"{gateway_url}/api/analytics/events", json=bad) as response:
            assert response.status == 400
            body = await response.json()
        assert body["code"] == 400
        assert [d["field"] for d in body["details"]] == [f"event.{field}"]
        kept = await _row(db, "SELECT field, payload FROM failed_events WHERE event_id = $1", bad["event_id"])
        assert kept["field"] == field
        assert json.loads(kept["payload"])["event_id"] == bad["event_id"]


async def test_batch_over_http_reports_each_rejection(gateway_url, http, db):
    good, bad = event_dict(), event_dict(event_type="not_a_type")
    async with http.post(
        f"{gateway_url}/api/analytics/events:batch", json={"events": [good, bad]}
    ) as response:
        assert response.status == 200
        result = (await response.json())["result"]
    assert (result["accepted"], result["rejected"]) == (1, 1)
    assert result["rejections"] == [
        {
            "index": 1,
            "event_id": bad["event_id"],
            "field": "event_type",
            "reason": result["rejections"][0]["reason"],
        }
    ]
    assert "must be one of" in result["rejections"][0]["reason"]


async def test_unimplemented_routes_answer_501_and_openapi_lists_every_route(gateway_url, http):
    async with http.get(f"{gateway_url}/api/recommendations/universes?user_id=u1&age_group=6-8") as response:
        assert response.status in (200, 501)
    async with http.get(f"{gateway_url}/api/openapi.json") as response:
        document = await response.json()
    for path in (
        "/api/analytics/events",
        "/api/analytics/dashboard",
        "/api/analytics/reports/{report_type}",
        "/api/recommendations/{kind}",
        "/api/feedback",
        "/api/feedback/{story_id}",
        "/api/feedback/summary",
    ):
        assert path in document["paths"], path
