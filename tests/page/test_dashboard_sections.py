"""The feedback, recommendation and experiment sections of the dashboard page, in a real
headless Chromium against the real gateway and services: what is drawn is what the
feedback summary, the moderation queue, recommendation click-through and the
experiment report answer for the same dates and filters."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from common.settings import REPO_ROOT
from tests.page.conftest import FRIGHTENING_STORY
from tests.page.helpers import (
    DRAWN,
    daily_satisfaction,
    get_json,
    open_dashboard,
    problem_bars,
    query,
    rate_bars,
    rating_bars,
    sentiment_bars,
)

ARTIFACTS = REPO_ROOT / "artifacts"


async def test_feedback_section_draws_the_summary_and_the_queue(demo, browser, http):
    page = await open_dashboard(browser, f"{demo.url}/")
    drawn = await page.evaluate(DRAWN)
    filters = drawn["filters"]
    summary = await get_json(http, f"{demo.url}/api/feedback/summary?{query(filters)}")
    assert int(summary["count"]) > 20
    assert drawn["figures"]["feedback_count"] == summary["count"]
    assert drawn["bars"]["ratings"] == rating_bars(summary)
    assert drawn["bars"]["sentiment"] == sentiment_bars(summary)
    assert sum(n for _, n in drawn["bars"]["sentiment"]) > 0
    assert drawn["bars"]["problems"] == problem_bars(summary) and drawn["bars"]["problems"]
    assert drawn["suggestions"] == summary["suggestions"]

    first, last = date.fromisoformat(filters["start_date"]), date.fromisoformat(filters["end_date"])
    days = [str(first + timedelta(days=i)) for i in range((last - first).days + 1)]
    ratings, sentiments = daily_satisfaction(summary["satisfaction_trend"], days)
    assert len(drawn["satisfaction"]) == len(days)
    assert drawn["satisfaction"] == pytest.approx(ratings)
    assert drawn["sentimentLine"] == pytest.approx(sentiments)
    # Days without feedback break the line rather than drawing a rating of 0.
    assert None in ratings and sum(r is not None for r in ratings) >= 10

    # Open alerts (the frightening story's among them) and the moderation queue, as the API lists them.
    assert drawn["alerts"] and sorted(drawn["alerts"]) == sorted(
        a["alert_id"] for a in summary["open_alerts"]
    )
    safety = [a for a in summary["open_alerts"] if a["story_id"] == FRIGHTENING_STORY]
    assert [a["kind"] for a in safety] == ["safety"] and demo.safety_feedback_id in safety[0]["feedback_ids"]
    queue = await get_json(http, f"{demo.url}/api/moderation/queue?page_size=100")
    assert drawn["moderation"] == [item["story_id"] for item in queue["items"]]
    assert FRIGHTENING_STORY in drawn["moderation"]
    story_link = await page.evaluate(
        f"document.querySelector('#moderation li[data-story=\"{FRIGHTENING_STORY}\"] a').getAttribute('href')"
    )
    story_feedback = await get_json(http, demo.url + story_link)
    assert [f["feedback_id"] for f in story_feedback["feedback"]] == [demo.safety_feedback_id]
    assert page.problems == [], page.problems


async def test_recommendation_section_draws_click_through_per_kind_and_version(demo, browser, http):
    page = await open_dashboard(browser, f"{demo.url}/")
    drawn = await page.evaluate(DRAWN)
    report = await get_json(http, f"{demo.url}/api/analytics/recommendations?{query(drawn['filters'])}")
    assert drawn["figures"]["reco_shown"] == report["total"]["shown"]
    assert drawn["figures"]["reco_clicked"] == report["total"]["clicked"]
    assert drawn["recoTypes"] == rate_bars(report["by_type"], "recommendation_type")
    assert drawn["recoVersions"] == rate_bars(report["by_model_version"], "model_version")
    cells = [
        [c["model_version"], c["recommendation_type"], int(c["shown"]), int(c["clicked"])]
        for c in report["by_model_version_and_type"]
    ]
    assert sorted(c for c in drawn["recoCells"] if c[1] != "*") == sorted(cells)

    # The lists the fixture showed, under the kind and version the recommendation service quoted,
    # beside the simulated carousel's baseline.
    versions = {v for _, v in demo.recommendation_events}
    assert versions and "popularity-baseline" not in versions
    by_cell = {(c[1], c[0]): c[2:] for c in drawn["recoCells"]}
    for key, counts in demo.recommendation_events.items():
        assert by_cell[key] == counts, key
    assert {"universe", "character", "theme"} <= {kind for kind, _ in demo.recommendation_events}
    assert {key for key, _ in drawn["recoVersions"]} >= versions | {"popularity-baseline"}
    assert f"start_date={drawn['filters']['start_date']}" in drawn["sources"][1]
    assert page.problems == [], page.problems


async def test_a_stopped_experiment_opens_from_the_page(demo, browser, http, tmp_path: Path):
    """An experiment that ran and stopped: listed as stopped, its report opens on the page (over
    the experiment's own run) and by its URL, and its links answer."""
    key = f"page-stopped-{uuid.uuid4().hex[:8]}"
    definition = {
        "key": key,
        "description": "bigger story cards",
        "variants": [{"key": "control", "weight": 50}, {"key": "cards", "weight": 50}],
        "primary_metric": {"name": "completed", "kind": "conversion", "event": "story_completed"},
    }
    await call(http, "POST", f"{demo.url}/api/experiments", definition)
    await call(http, "POST", f"{demo.url}/api/experiments/{key}:start", {})
    for user in range(16):
        params = {"user_id": f"page-stopped-user-{user}", "context.age_group": "6-8"}
        async with http.get(f"{demo.url}/api/experiments/assignments", params=params) as response:
            assert response.status == 200, await response.text()
    stopped = (await call(http, "POST", f"{demo.url}/api/experiments/{key}:stop", {}))["experiment"]
    assert stopped["status"] == "stopped"

    page = await open_dashboard(browser, f"{demo.url}/")
    drawn = await page.evaluate(DRAWN)
    assert [key, "stopped"] in drawn["experiments"]
    assert drawn["experimentOpen"] is None
    assert any(f"experiment_key={key}" in link for link in drawn["links"])  # in the reports table too

    await page.evaluate(f"document.querySelector('button[data-open=\"{key}\"]').click()")
    await page.wait_for(
        f"document.getElementById('experiment-detail').dataset.key === '{key}'"
        " && document.getElementById('experiment-detail').dataset.state === 'ready'"
    )
    assert f"experiment={key}" in await page.evaluate("location.search")
    assert await page.evaluate("document.activeElement.id") == "experiment-title"
    detail = await read_detail(page)
    report = await get_json(http, demo.url + detail["url"])
    assert parse_qs(urlsplit(detail["url"]).query)["start_date"] == [stopped["started_at"][:10]]
    assert (report["start_date"], report["end_date"]) == (
        stopped["started_at"][:10],
        stopped["stopped_at"][:10],
    )
    assert report["summary"]["status"] == "stopped" and report["summary"]["users"] == 16
    variants = next(t for t in report["tables"] if t["name"] == "variants")
    assert detail["variants"] == [[row[0], str(int(row[2]))] for row in variants["rows"]]
    results = next(t for t in report["tables"] if t["name"] == "results")
    assert len(detail["results"]) == len(results["rows"]) == 2
    assert detail["users"] == "16"
    for link in detail["links"]:
        async with http.get(demo.url + link) as response:
            assert response.status == 200, link
            assert response.content_type == ("text/csv" if "/csv" in link else "application/json")
    assert page.problems == [], page.problems

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(ARTIFACTS / "dashboard-experiment.png", tmp_path / "dashboard-experiment.png")

    # The page's URL opens the same report directly (a link to share).
    shared = await open_dashboard(browser, f"{demo.url}/?experiment={key}")
    await shared.wait_for(
        f"document.getElementById('experiment-detail').dataset.key === '{key}'"
        " && document.getElementById('experiment-detail').dataset.state === 'ready'"
    )
    assert (await read_detail(shared))["variants"] == detail["variants"]
    assert shared.problems == [], shared.problems


async def call(http, method: str, url: str, body: dict) -> dict:
    async with http.request(method, url, json=body) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def read_detail(page) -> dict:
    return await page.evaluate(
        """(() => {
          const host = document.getElementById('experiment-detail');
          const rows = (name) => [...host.querySelectorAll(`table[data-table=${name}] tbody tr`)]
            .map((tr) => [...tr.children].map((c) => c.textContent));
          return {
            url: host.dataset.url,
            users: host.querySelector('[data-figure=experiment_users]').dataset.value,
            variants: rows('variants').map((r) => [r[0], r[1]]),
            results: rows('results'),
            links: [...host.querySelectorAll('.links a')].map((a) => a.getAttribute('href')),
          };
        })()"""
    )


async def test_a_section_whose_service_cannot_be_reached_says_so_and_the_rest_is_drawn(demo, browser):
    """The browser cannot reach the feedback summary (blocked at the network layer): the
    feedback section shows why, every other section is drawn."""
    page = await browser.new_page()
    await page.send("Network.enable")
    await page.send("Network.setBlockedURLs", {"urls": ["*/api/feedback/summary*"]})
    await page.goto(f"{demo.url}/")
    await page.wait_for("document.body.dataset.state === 'ready'")
    message = await page.evaluate(
        "(() => { const box = document.getElementById('feedback-error');"
        " return box.hidden ? null : box.textContent; })()"
    )
    assert message and message.startswith("This section could not be loaded"), message
    drawn = await page.evaluate(DRAWN)
    assert drawn["dau"] and drawn["recoTypes"] and drawn["experimentsEmpty"] is not None
    assert await page.evaluate("document.getElementById('reco-error').hidden")
    assert await page.evaluate("document.getElementById('error').hidden")
    assert page.problems == [], page.problems  # handled: no uncaught error (a blocked load logs nothing)
