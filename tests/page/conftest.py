"""Fixtures of the page tests: simulated data through the public API, a headless Chromium."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
import asyncpg
import pytest

from simulator.behaviour import Simulation
from simulator.drive import Summary, send_events_http, send_feedback_http
from tests.page.cdp import Browser, ChromiumNotFound

USERS, DAYS, SEED = 60, 21, 2024
# A story a parent reports as frightening: a safety alert, and the story in the moderation queue.
FRIGHTENING_STORY = f"story-page-{uuid.uuid4().hex[:8]}"
# Users shown real recommendation lists (their items, kinds and model version), by the fixture.
RECOMMENDED_USERS = 6


@dataclass
class DemoData:
    url: str
    # (recommendation_type, model_version) → [shown, clicked] sent for the real lists.
    recommendation_events: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    safety_feedback_id: str = ""


@pytest.fixture(scope="session")  # once for both page modules: the figures it checks are exact
async def demo(gateway_url: str, db: asyncpg.Pool) -> DemoData:
    """A small seeded population's last three weeks (events and parents' feedback) sent through
    the gateway; recommendation events for real lists of the recommendation service; a safety
    report. Every figure of the page has something to show."""
    events, feedback = [], []
    for batch in Simulation(USERS, DAYS, SEED).run():
        events.extend(batch.events)
        feedback.extend(batch.feedback)
    summary = await send_events_http(gateway_url, events)
    assert summary.accepted + summary.duplicates == summary.sent and summary.rejected == 0, summary.line()
    demo = DemoData(gateway_url)
    async with aiohttp.ClientSession() as http:
        users = sorted({(e["user_id"], e["properties"]["age_group"]) for e in events})[:RECOMMENDED_USERS]
        demo.recommendation_events = await _show_recommendations(http, gateway_url, users)
        safety = _frightening_report(feedback[0])
        demo.safety_feedback_id = safety["feedback_id"]
        feedback_sent = Summary()
        await send_feedback_http(gateway_url, [*feedback, safety], feedback_sent)
        assert feedback_sent.feedback_sent == len(feedback) + 1 > 20, feedback_sent.notes
    await _wait_for_cohorts(db, sorted({e["user_id"] for e in events}))
    await _wait_for_analysis(db, [f["feedback_id"] for f in feedback] + [safety["feedback_id"]])
    return demo


@pytest.fixture(scope="session")
async def demo_data(demo: DemoData) -> str:
    return demo.url


async def _show_recommendations(http: aiohttp.ClientSession, base: str, users) -> dict:
    """As the app does: ask for recommendations, show every item (recommendation_shown quoting
    the list's kind and model version), click the first of every other list."""
    sent: dict[tuple[str, str], list[int]] = {}
    events = []
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for n, (user, age_group) in enumerate(users):
        body = {
            "user_id": user,
            "context": {"age_group": age_group, "device_type": "tablet"},
            "recommendation_types": ["universe", "character", "theme", "story"],
            "limit": 4,
        }
        async with http.post(f"{base}/api/recommendations", json=body) as response:
            assert response.status == 200, await response.text()
            lists = (await response.json())["lists"]
        for i, found in enumerate(lists):
            key = (found["recommendation_type"], found["model_version"])
            for position, item in enumerate(found["items"]):
                clicks = ["recommendation_clicked"] if position == 0 and (n + i) % 2 == 0 else []
                for event_type in ["recommendation_shown", *clicks]:
                    counts = sent.setdefault(key, [0, 0])
                    counts[event_type == "recommendation_clicked"] += 1
                    properties = {
                        "recommendation_type": found["recommendation_type"],
                        "item_id": item["id"],
                        "position": position,
                        "model_version": found["model_version"],
                        "age_group": age_group,
                        "device_type": "tablet",
                        "platform": "ios",
                    }
                    events.append(
                        {
                            "event_id": f"page-reco-{uuid.uuid4().hex}",
                            "user_id": user,
                            "timestamp": now,
                            "event_type": event_type,
                            "properties": properties,
                        }
                    )
    async with http.post(f"{base}/api/analytics/events:batch", json={"events": events}) as response:
        assert response.status == 200, await response.text()
        assert (await response.json())["result"]["accepted"] == len(events)
    assert sum(shown for shown, _ in sent.values()) > 20, sent
    return sent


def _frightening_report(like: dict) -> dict:
    return {
        **like,
        "feedback_id": f"fb-page-{uuid.uuid4().hex[:12]}",
        "story_id": FRIGHTENING_STORY,
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rating": 1,
        "comment": "Far too scary, the monster gave my daughter nightmares.",
        "categories": ["scary_content"],
    }


async def _wait_for_analysis(db: asyncpg.Pool, feedback_ids: list[str], timeout: float = 60.0) -> None:
    """Sentiment and aspects are computed after the feedback is stored, and the alert after
    that: wait for both, so the page and the test's own API calls see the same figures."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        analysed = await db.fetchval(
            "SELECT count(*) FROM feedback WHERE analyzed AND feedback_id = ANY($1)", feedback_ids
        )
        queued = await db.fetchval(
            "SELECT count(*) FROM moderation_queue WHERE story_id = $1 AND status = 'pending'",
            FRIGHTENING_STORY,
        )
        if analysed == len(feedback_ids) and queued:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(
                f"after {timeout} s {analysed} of {len(feedback_ids)} analysed, queued: {queued}"
            )
        await asyncio.sleep(0.5)


async def _wait_for_cohorts(db: asyncpg.Pool, users: list[str], timeout: float = 30.0) -> None:
    """Retention cohorts come from user_first_events, which the real-time counters write every
    5 s after the events are stored: wait until every simulated user is in it, so the page
    and the test's own API calls see the same figures."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        known = await db.fetchval(
            "SELECT count(*) FROM user_first_events WHERE event_type = '*' AND user_id = ANY($1)", users
        )
        if known == len(users):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"after {timeout} s only {known} of {len(users)} users have a first event")
        await asyncio.sleep(0.5)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    try:
        chromium = await Browser.launch()
    except ChromiumNotFound as exc:
        missing = str(exc)
    else:
        yield chromium
        await chromium.close()
        return
    # Not a skip: without a browser the page is untested, and that must show.
    pytest.fail(missing, pytrace=False)
