"""Helpers of the page tests: open the page, read back what it drew, ask the API the same."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from tests.page.cdp import Browser, Page

# Everything the page drew, read back from the marks' data attributes.
DRAWN = (Path(__file__).parent / "drawn.js").read_text()


async def open_dashboard(browser: Browser, url: str, width: int = 1366, height: int = 900) -> Page:
    page = await browser.new_page(width, height)
    await page.goto(url)
    await page.wait_for("document.body.dataset.state === 'ready'")
    return page


async def get_json(http: aiohttp.ClientSession, url: str) -> dict:
    async with http.get(url) as response:
        assert response.status == 200, f"{url}: {response.status} {await response.text()}"
        return await response.json()


async def api_dashboard(http: aiohttp.ClientSession, base: str, filters: dict) -> dict:
    params = {k: v for k, v in filters.items() if v}
    async with http.get(f"{base}/api/analytics/dashboard", params=params) as response:
        assert response.status == 200, await response.text()
        return await response.json()


def query(filters: dict) -> str:
    return urlencode({k: v for k, v in filters.items() if v})


def rating_bars(summary: dict) -> list[list]:
    """The rating bars the page should draw: 5 stars first, counts."""
    return [[str(stars), int(summary["rating_distribution"][stars - 1])] for stars in (5, 4, 3, 2, 1)]


def sentiment_bars(summary: dict) -> list[list]:
    counts = [int(n) for n in summary["sentiment_distribution"]]
    return [["positive", counts[2]], ["neutral", counts[1]], ["negative", counts[0]]]


def problem_bars(summary: dict) -> list[list]:
    return [[p["aspect"], int(p["negative"])] for p in summary["top_problems"] if int(p["negative"])]


def rate_bars(rows: list[dict], key: str) -> list[list]:
    return [[row[key], row["click_through_rate"]] for row in rows]


def daily_satisfaction(trend: list[dict], days: list[str]) -> tuple[list, list]:
    """Average rating and sentiment per day from the per-group trend (None: no feedback)."""
    sums = {day: [0, 0.0, 0, 0.0] for day in days}
    for point in trend:
        if point["date"] in sums:
            n, scored = int(point["count"]), int(point["sentiment_count"])
            day = sums[point["date"]]
            day[0] += n
            day[1] += n * point["average_rating"]
            day[2] += scored
            day[3] += scored * point["average_sentiment"]
    ratings = [s[1] / s[0] if s[0] else None for s in sums.values()]
    sentiments = [s[3] / s[2] if s[2] else None for s in sums.values()]
    return ratings, sentiments
