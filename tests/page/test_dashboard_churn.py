"""The dashboard's "Who may not come back" card, in a real headless Chromium against a real gateway
and an analytics service of its own (own database: the session's demo figures stay exact):
children's events in, the scheduled training run, then the card shows what GetDashboard's
churn_risk answers, with the page's filters, and links to the churn_risk report."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.churn.history import churn_service, history, send
from tests.page.helpers import DRAWN, api_dashboard, open_dashboard

BARS = """[...document.querySelectorAll('#churn-ages rect.bar')]
  .map((r) => [r.dataset.key, Number(r.dataset.value)])"""
SOURCE = "document.getElementById('churn-source').getAttribute('href')"


@pytest.fixture
async def trained(settings, gateway_settings, own_database, http):
    """Analytics on its own database behind a gateway whose other services are the session's."""
    async with churn_service(settings, own_database, gateway_settings) as (analytics, url):
        events, _ = history(datetime.now(UTC).date(), users=64, seed=5)
        await send(http, url, events)
        assert await analytics.component.churn.run_once() is not None
        yield url


async def test_at_risk_card_draws_the_dashboards_churn_figures(trained, browser, http):
    page = await open_dashboard(browser, f"{trained}/")
    drawn = await page.evaluate(DRAWN)
    churn = (await api_dashboard(http, trained, {}))["churn_risk"]
    assert int(churn["active_children"]) > 0 and int(churn["at_risk"]) > 0
    assert drawn["figures"]["churn_active_children"] == str(churn["active_children"])
    assert drawn["figures"]["churn_at_risk"] == str(churn["at_risk"])
    assert float(drawn["figures"]["churn_return_7d"]) == pytest.approx(churn["mean_p_return_7d"])
    bars = await page.evaluate(BARS)
    assert bars == [[i["key"], i["value"]] for i in churn["at_risk_by_age_group"]]
    # The report link: the filters, never the dates (the predictions are the latest).
    source = await page.evaluate(SOURCE)
    assert urlsplit(source).path == "/api/analytics/reports/churn_risk"
    assert "start_date" not in source and "end_date" not in source
    assert any(urlsplit(link).path == "/api/analytics/reports/churn_risk" for link in drawn["links"])

    # A filter narrows the card to the children it selects.
    filtered = await open_dashboard(browser, f"{trained}/?age_group=9-12")
    after = await filtered.evaluate(DRAWN)
    narrow = (await api_dashboard(http, trained, {"age_group": "9-12"}))["churn_risk"]
    assert after["figures"]["churn_active_children"] == str(narrow["active_children"])
    assert int(narrow["active_children"]) < int(churn["active_children"])
    assert await filtered.evaluate(BARS) == [["9-12", narrow["at_risk_by_age_group"][0]["value"]]]
    assert parse_qs(urlsplit(await filtered.evaluate(SOURCE)).query)["age_group"] == ["9-12"]
    assert page.problems == [] and filtered.problems == [], (page.problems, filtered.problems)
