"""Fixtures of the page tests: simulated data through the public API, a headless Chromium."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from simulator.behaviour import generate
from simulator.drive import send_events_http
from tests.page.cdp import Browser, ChromiumNotFound

USERS, DAYS, SEED = 60, 21, 2024


@pytest.fixture(scope="module")
async def demo_data(gateway_url: str) -> str:
    """A small seeded population's last three weeks, sent through the gateway. Returns its URL."""
    summary = await send_events_http(gateway_url, generate(USERS, DAYS, SEED))
    assert summary.accepted + summary.duplicates == summary.sent and summary.rejected == 0, summary.line()
    await _wait_for_cohorts(gateway_url)
    return gateway_url


async def _wait_for_cohorts(base: str, timeout: float = 30.0) -> None:
    """Retention cohorts come from user_first_events, which the real-time counters write every
    5 s after the events are stored: wait until every active user of the range is in a cohort."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession(base) as http:
        while True:
            async with http.get("/api/analytics/dashboard") as response:
                mau = int((await response.json())["active_users"]["mau"])
            async with http.get("/api/analytics/reports/retention") as response:
                cohorts = int((await response.json())["summary"]["users"])
            if mau and cohorts >= mau:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"after {timeout} s only {cohorts} of {mau} active users are in cohorts")
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
