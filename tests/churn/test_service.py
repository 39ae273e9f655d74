"""Predicted retention in the service: events in through the gateway, the scheduled training run
inside the analytics service, the churn_risk report and the dashboard's figures over HTTP and
gRPC, bad parameters, and erasure removing a child's prediction.

The analytics service here runs on a database of its own (no other test's events) behind a
gateway of its own, so every figure can be computed from the history the test sends.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from storyverse.analytics.v1 import analytics_service_pb2 as pb
from storyverse.analytics.v1 import analytics_service_pb2_grpc as pb_grpc

from analytics_svc.churn.features import FEATURES
from analytics_svc.churn.risk import AT_RISK_BELOW
from tests.churn.history import DAYS, churn_service, history, send


@pytest.fixture
async def service(settings, own_database):
    """An analytics service on its own database, with a gateway in front of it."""
    async with churn_service(settings, own_database) as running:
        yield running


async def _get(http, url: str, status: int = 200) -> dict:
    async with http.get(url) as resp:
        body = await resp.json()
        assert resp.status == status, body
        return body


def _table(report: dict, name: str) -> list[dict]:
    table = next(t for t in report["tables"] if t["name"] == name)
    return [dict(zip(table["columns"], row, strict=True)) for row in table["rows"]]


async def test_events_to_training_to_report_dashboard_and_erasure(service, http):
    analytics, url = service
    today = datetime.now(UTC).date()
    events, kids = history(today)
    await send(http, url, events)
    pool = analytics.pool

    # Nothing trained yet: the report and the dashboard say so with zeros.
    empty = await _get(http, f"{url}/api/analytics/reports/churn_risk")
    assert empty["summary"]["active_children"] == 0 and empty["summary"]["model_id"] is None

    # The scheduled job: woken now rather than after its first pause; it trains once, and a
    # second turn the same day finds the model fresh and does nothing.
    job = analytics.component.churn
    assert job.periodic.running
    job.periodic.wake()
    for _ in range(600):
        if await pool.fetchval("SELECT count(*) FROM churn_models"):
            break
        await asyncio.sleep(0.1)
    assert await pool.fetchval("SELECT count(*) FROM churn_models") == 1
    assert await job.run_once() is None

    # Active children: an event in the 28 days before today.
    active = {u: k for u, k in kids.items() if any(d >= DAYS - 28 for d in k["days"])}
    rows = await pool.fetch("SELECT * FROM churn_predictions")
    assert {r["user_id"] for r in rows} == set(active)
    by_user = {r["user_id"]: r for r in rows}
    for user, kid in active.items():
        row = by_user[user]
        assert (row["age_group"], row["platform"], row["device_type"]) == (
            kid["age_group"],
            kid["platform"],
            kid["device_type"],
        )
        first = today - timedelta(days=DAYS - kid["days"][0])
        assert row["cohort_week"] == first - timedelta(days=first.weekday())
        assert 0 < row["p_return_7d"] < 1 and 0 < row["p_return_28d"] < 1
        assert row["p_return_28d"] >= row["p_return_7d"] - 0.1  # a longer window, seldom less likely
        assert len(row["factors"]) == len(FEATURES)
    # The model learnt the difference: children still visiting are given better chances than
    # those who stopped, and every stopped child seen last over 10 days ago is at risk.
    regular = [by_user[u]["p_return_7d"] for u, k in active.items() if k["regular"]]
    stopped = [by_user[u]["p_return_7d"] for u, k in active.items() if not k["regular"]]
    assert sum(regular) / len(regular) > sum(stopped) / len(stopped) + 0.3
    long_gone = [u for u, k in active.items() if k["days"][-1] < DAYS - 10]
    assert long_gone and all(by_user[u]["p_return_7d"] < AT_RISK_BELOW for u in long_gone)

    # The report, through the gateway.
    report = await _get(http, f"{url}/api/analytics/reports/churn_risk")
    at_risk = sum(r["p_return_7d"] < AT_RISK_BELOW for r in rows)
    summary = report["summary"]
    assert summary["active_children"] == len(active) and summary["at_risk"] == at_risk
    assert summary["at_risk_below"] == AT_RISK_BELOW and summary["scored_day"] == str(today)
    assert summary["mean_p_return_7d"] == pytest.approx(sum(r["p_return_7d"] for r in rows) / len(rows))
    ages = _table(report, "by_age_group")
    assert {a["age_group"]: a["active_children"] for a in ages} == Counter(
        k["age_group"] for k in active.values()
    )
    for a in ages:
        group = [r for r in rows if r["age_group"] == a["age_group"]]
        assert a["at_risk"] == sum(r["p_return_7d"] < AT_RISK_BELOW for r in group)
        assert a["mean_p_return_28d"] == pytest.approx(sum(r["p_return_28d"] for r in group) / len(group))
    platforms = _table(report, "by_platform")
    assert {p["platform"]: p["active_children"] for p in platforms} == Counter(
        k["platform"] for k in active.values()
    )
    cohorts = _table(report, "by_cohort")
    assert {c["cohort_week"]: c["active_children"] for c in cohorts} == Counter(
        str(r["cohort_week"]) for r in rows
    )
    segments = _table(report, "segments")
    assert sum(s["active_children"] for s in segments) == len(active)
    assert sum(s["at_risk"] for s in segments) == at_risk
    # Factors: up to three per segment, the mean of the children's pushes on the logit.
    factors = _table(report, "factors")
    assert {f["factor"] for f in factors} <= set(FEATURES)
    first_age = [f for f in factors if f["split"] == "age_group" and f["segment"] == ages[0]["age_group"]]
    assert [f["rank"] for f in first_age] == [1, 2, 3]
    group = [r for r in rows if r["age_group"] == ages[0]["age_group"]]
    j = FEATURES.index(first_age[0]["factor"])
    assert first_age[0]["effect"] == pytest.approx(sum(r["factors"][j] for r in group) / len(group), rel=1e-4)
    assert abs(first_age[0]["effect"]) >= abs(first_age[1]["effect"]) >= abs(first_age[2]["effect"])

    # Filters select children; an explicit date range selects cohort weeks.
    only = await _get(http, f"{url}/api/analytics/reports/churn_risk?age_group=13-17&platform=web")
    expected = [k for k in active.values() if k["age_group"] == "13-17" and k["platform"] == "web"]
    assert only["summary"]["active_children"] == len(expected)
    week = cohorts[-1]["cohort_week"]
    recent = await _get(http, f"{url}/api/analytics/reports/churn_risk?start_date={week}&end_date={today}")
    assert recent["summary"]["active_children"] == cohorts[-1]["active_children"]
    async with http.get(f"{url}/api/analytics/reports/churn_risk/csv") as resp:
        assert resp.status == 200 and "by_age_group" in await resp.text()

    # The dashboard's card: the same counts, with the dashboard's filters.
    board = await _get(http, f"{url}/api/analytics/dashboard")
    churn = board["churn_risk"]
    assert int(churn["active_children"]) == len(active) and int(churn["at_risk"]) == at_risk
    assert churn["trained_at"] and churn["at_risk_below"] == AT_RISK_BELOW
    assert {i["key"]: i["value"] for i in churn["at_risk_by_age_group"]} == {
        a["age_group"]: a["at_risk"] for a in ages
    }
    young = await _get(http, f"{url}/api/analytics/dashboard?age_group=3-5")
    three = next(a for a in ages if a["age_group"] == "3-5")
    assert int(young["churn_risk"]["active_children"]) == three["active_children"]

    # Erasure: the child's prediction goes with the rest of their data.
    gone = next(iter(active))
    async with http.delete(f"{url}/api/admin/users/{gone}") as resp:
        body = await resp.json()
        assert resp.status == 200, body
    assert body["deleted"]["churn_predictions"] == "1"
    assert await pool.fetchval("SELECT count(*) FROM churn_predictions WHERE user_id = $1", gone) == 0
    after = await _get(http, f"{url}/api/analytics/reports/churn_risk")
    assert after["summary"]["active_children"] == len(active) - 1
    # A new training run (forced) does not bring the erased child back (no events left, and
    # the tombstone would drop them anyway).
    assert await job.run_once(force=True) is not None
    assert await pool.fetchval("SELECT count(*) FROM churn_predictions WHERE user_id = $1", gone) == 0
    assert await pool.fetchval("SELECT count(*) FROM churn_predictions") == len(active) - 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("granularity=day", "granularity"),
        ("breakdown=platform", "breakdown"),
        ("return_event=session_start", "return_event"),
        ("start_date=2026-03-01&end_date=2026-02-01", "start_date"),
        ("age_group=2-4", "age_group"),
    ],
)
async def test_bad_parameters_are_400_naming_the_field(service, http, query, field):
    _, url = service
    body = await _get(http, f"{url}/api/analytics/reports/churn_risk?{query}", status=400)
    assert field in str(body), body


async def test_bad_parameters_over_grpc_are_invalid_argument_with_field_details(service):
    analytics, _ = service
    async with grpc.aio.insecure_channel(f"127.0.0.1:{analytics.port}") as channel:
        stub = pb_grpc.AnalyticsServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetReport(pb.GetReportRequest(report_type="churn_risk", breakdown="age_group"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = dict(caught.value.trailing_metadata())["grpc-status-details-bin"]
    status = status_pb2.Status.FromString(details)
    bad = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    assert [v.field for v in bad.field_violations] == ["breakdown"]
