"""Fixtures of the page tests: simulated data through the public API, a headless Chromium."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from simulator.behaviour import generate
from simulator.drive import send_events_http
from tests.page.cdp import Browser, ChromiumNotFound

USERS, DAYS, SEED = 60, 21, 2024


@pytest.fixture(scope="module")
async def demo_data(gateway_url: str, db: asyncpg.Pool) -> str:
    """A small seeded population's last three weeks, sent through the gateway. Returns its URL."""
    events = list(generate(USERS, DAYS, SEED))
    summary = await send_events_http(gateway_url, events)
    assert summary.accepted + summary.duplicates == summary.sent and summary.rejected == 0, summary.line()
    await _wait_for_cohorts(db, sorted({e["user_id"] for e in events}))
    return gateway_url


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
