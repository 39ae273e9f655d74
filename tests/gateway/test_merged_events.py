"""Single events merged into batch calls (gateway/merged_events.py): every caller gets the
answer of its own call, compared with a gateway that does not merge, and nothing is lost or
counted twice under concurrency."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace

import pytest
from gateway_helpers import start_gateway

from common import telemetry
from tests.events import event_dict

ROUTE = "/api/analytics/events"


@pytest.fixture(scope="module")
async def unmerged_url(gateway_settings):
    server = await start_gateway(replace(gateway_settings, gateway_merge_events=False))
    yield str(server.make_url("")).rstrip("/")
    await server.close()


async def post(http, url: str, body) -> tuple[int, dict]:
    async with http.post(url + ROUTE, json=body) as resp:
        return resp.status, await resp.json()


def damaged_events() -> list[dict]:
    return [
        event_dict(user_id=None),
        event_dict(event_type="not_a_type"),
        event_dict(timestamp="yesterday"),
        event_dict(timestamp="1999-01-01T00:00:00Z"),
        event_dict(properties={"device_type": "toaster"}),
        event_dict(properties={"universes": ["Not A Slug!"]}),
        event_dict(event_id=None),
        event_dict(session_id="x" * 5000),
    ]


async def test_each_answer_is_the_one_the_unmerged_route_gives(http, gateway_url, unmerged_url):
    # A new event, then the same again, on each gateway (ids differ between them).
    first = [await post(http, url, event_dict()) for url in (gateway_url, unmerged_url)]
    assert first[0] == first[1] and first[0][1]["result"]["accepted"] == 1, first
    merged_first, unmerged_first = event_dict(), event_dict()
    await post(http, gateway_url, merged_first)
    await post(http, unmerged_url, unmerged_first)
    merged_again = await post(http, gateway_url, merged_first)
    assert merged_again == await post(http, unmerged_url, unmerged_first)
    assert merged_again[1]["result"]["duplicates"] == 1, merged_again
    assert merged_again[1]["result"]["duplicate_indexes"] == [0], merged_again
    # Invalid events: the same status, message and field details, event by event.
    for body in damaged_events():
        merged, unmerged = await post(http, gateway_url, body), await post(http, unmerged_url, body)
        assert merged == unmerged, body
        assert merged[0] == 400 and merged[1]["details"][0]["field"].startswith("event"), merged
    # No event at all is not merged (the request's own check answers).
    assert await post(http, gateway_url, {}) == await post(http, unmerged_url, {})


def scraped(text: str, name: str) -> float:
    match = re.search(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def metrics(http, url: str) -> tuple[float, float]:
    async with http.get(url + "/metrics") as resp:
        text = await resp.text()
    return (
        scraped(text, "storyverse_gateway_merged_event_calls_total"),
        scraped(text, "storyverse_gateway_merged_events_total"),
    )


async def test_concurrent_callers_share_calls_and_each_learns_its_own_outcome(http, gateway_url, db):
    telemetry.setup("gateway")  # as `python -m gateway` does (the first call in a process wins)
    calls_before, events_before = await metrics(http, gateway_url)
    valid = [event_dict(user_id=f"merge-{i % 40}") for i in range(200)]
    twice = valid[:50]  # sent twice at once: one caller stores it, the other learns it is a duplicate
    invalid = [event_dict(properties={"device_type": "toaster"}) for _ in range(30)]
    bodies = valid + twice + invalid
    answers = await asyncio.gather(*(post(http, gateway_url, body) for body in bodies))

    outcomes: dict[str, list[str]] = {}
    for body, (status, reply) in zip(bodies, answers, strict=True):
        if body in invalid:
            assert status == 400 and reply["details"][0]["field"] == "event.properties.device_type", reply
            continue
        assert status == 200, reply
        outcomes.setdefault(body["event_id"], []).extend(k for k, v in reply["result"].items() if v == 1)
    assert all(kinds == ["accepted"] for kinds in (outcomes[e["event_id"]] for e in valid[50:]))
    assert all(sorted(outcomes[e["event_id"]]) == ["accepted", "duplicates"] for e in twice)
    ids = [e["event_id"] for e in valid]
    assert await db.fetchval("SELECT count(*) FROM events WHERE event_id = ANY($1::text[])", ids) == 200
    invalid_ids = [e["event_id"] for e in invalid]
    kept = await db.fetchval(
        "SELECT count(*) FROM failed_events WHERE event_id = ANY($1::text[])", invalid_ids
    )
    assert kept == 30  # rejected events are kept, as on the single route

    calls_after, events_after = await metrics(http, gateway_url)
    assert events_after - events_before == len(bodies)
    assert 0 < calls_after - calls_before < len(bodies) / 2, "the events were not merged"


BATCH_ROUTE = "/api/analytics/events:batch"


async def post_batch(http, url: str, events: list[dict]) -> tuple[int, dict]:
    async with http.post(url + BATCH_ROUTE, json={"events": events}) as resp:
        return resp.status, await resp.json()


def without_ids(answer: tuple[int, dict]) -> tuple[int, dict]:
    """An answer with the event ids in its rejections blanked (the two gateways get other ids)."""
    status, body = answer
    for rejection in body.get("result", {}).get("rejections", []):
        rejection["event_id"] = "-"
    return status, body


async def test_each_batch_answer_is_the_one_the_unmerged_route_gives(http, gateway_url, unmerged_url):
    def batch() -> list[dict]:
        new = event_dict()
        return [new, *damaged_events()[:3], event_dict(), new]  # the last repeats the first

    answers = []
    for url in (gateway_url, unmerged_url):
        events = batch()
        first = await post_batch(http, url, events)
        again = await post_batch(http, url, [event_dict(), events[4], *damaged_events()[3:5]])
        answers.append([without_ids(first), without_ids(again)])
    assert answers[0] == answers[1], answers
    first, again = answers[0]
    assert first[0] == 200 and first[1]["result"]["accepted"] == 2, first
    assert first[1]["result"]["duplicate_indexes"] == [5] and first[1]["result"]["rejected"] == 3, first
    assert again[1]["result"]["duplicate_indexes"] == [1], again
    assert [r["index"] for r in again[1]["result"]["rejections"]] == [2, 3], again
    # Not merged, answered by the request's own checks: no events at all.
    assert await post_batch(http, gateway_url, []) == await post_batch(http, unmerged_url, [])


async def test_concurrent_batches_share_calls_and_each_learns_its_own_outcome(http, gateway_url, db):
    telemetry.setup("gateway")
    calls_before, events_before = await metrics(http, gateway_url)
    callers = 40
    batches = [[event_dict(user_id=f"merge-batch-{c}") for _ in range(20)] for c in range(callers)]
    for c in range(0, callers, 4):  # every fourth batch: an invalid event at position 3
        batches[c][3] = event_dict(properties={"device_type": "toaster"})
    for c in range(1, callers, 4):  # and every fourth after it: an event of the batch before it
        batches[c][7] = batches[c - 1][0]
    answers = await asyncio.gather(*(post_batch(http, gateway_url, b) for b in batches))

    for c, (status, reply) in enumerate(answers):
        assert status == 200, reply
        result = reply["result"]
        if c % 4 == 0:
            assert [(r["index"], r["field"]) for r in result["rejections"]] == [(3, "properties.device_type")]
            assert result["accepted"] == 19 and result.get("duplicates", 0) == 0, result
        elif c % 4 == 1:
            # Sent at the same moment as its first copy: one of the two callers stored it.
            assert result["accepted"] + result.get("duplicates", 0) == 20, result
            assert result.get("duplicate_indexes", []) in ([], [7]), result
            assert not result.get("rejections"), result
        else:
            assert (
                result["accepted"] == 20 and not result.get("duplicates") and not result.get("rejections")
            ), result
    shared = [batches[c][7]["event_id"] for c in range(1, callers, 4)]
    twice = sum(
        answers[c][1]["result"].get("duplicates", 0) + answers[c - 1][1]["result"].get("duplicates", 0)
        for c in range(1, callers, 4)
    )
    assert twice == len(shared)  # each shared event: stored by one caller, a duplicate for the other
    ids = {
        e["event_id"] for c, b in enumerate(batches) for i, e in enumerate(b) if not (c % 4 == 0 and i == 3)
    }
    assert await db.fetchval(
        "SELECT count(*) FROM events WHERE event_id = ANY($1::text[])", list(ids)
    ) == len(ids)

    calls_after, events_after = await metrics(http, gateway_url)
    assert events_after - events_before == 20 * callers
    assert 0 < calls_after - calls_before < callers / 2, "the batches were not merged"
