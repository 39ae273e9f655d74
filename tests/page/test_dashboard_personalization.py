"""The dashboard's "Goals and families" card, in a real headless Chromium against the real gateway
and services: its figures and bars are what GET /api/recommendations/overview/personalization
answers, after parents set goals through the API."""

from __future__ import annotations

import uuid

from tests.page.helpers import DRAWN, get_json, open_dashboard

BARS = """[...document.querySelectorAll('#personal-goals rect.bar')]
  .map((r) => [r.dataset.key, Number(r.dataset.value)])"""


async def test_goals_and_families_card_draws_the_overview(demo, browser, http):
    for goals in (["patience", "honesty"], ["patience"]):
        child = f"kid-{uuid.uuid4().hex[:8]}"
        url = f"{demo.url}/api/recommendations/goals/{child}"
        async with http.put(url, json={"goals": goals}) as resp:
            assert resp.status == 200, await resp.text()
    page = await open_dashboard(browser, f"{demo.url}/")
    drawn = await page.evaluate(DRAWN)
    overview = await get_json(http, f"{demo.url}/api/recommendations/overview/personalization")
    assert overview["children_with_goals"] >= 2
    for figure in ("children_with_goals", "shared_stories", "family_stories"):  # data-value: text
        assert drawn["figures"][figure] == str(overview.get(figure, 0)), figure
    bars = await page.evaluate(BARS)
    assert bars == [[g["goal"]["id"], g["children"]] for g in overview["goals"]]
    assert dict(bars)["patience"] >= 2
    assert page.problems == [], page.problems
