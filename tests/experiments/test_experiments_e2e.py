"""Experiments end to end through the real gateway and the real analytics service:
admin routes, assignments, exposures, the experiment report (JSON and CSV), the dashboard.

Keys are fixed (each session has a fresh database) so that assignments, and with the
seeded data every figure, are the same on every run."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from scipy import stats

from analytics_svc.experiments.assignment import Arm, Context, Rules, assign, exposure_event_id
from analytics_svc.reports import csv_export
from simulator import Experiment as SimExperiment
from simulator import SimConfig, Simulation
from simulator.drive import send_events_http

SIM_NOW = datetime(2025, 6, 15, 21, 0, tzinfo=UTC)


def definition(key: str, **extra) -> dict:
    body = {
        "key": key,
        "description": "bigger read button",
        "variants": [{"key": "control", "weight": 50}, {"key": "treatment", "weight": 50}],
        "primary_metric": {"name": "completed", "kind": "conversion", "event": "story_completed"},
        "guardrail_metrics": [
            {"name": "creation_time", "kind": "mean", "event": "story_creation", "property": "creation_time",
             "goal": "decrease"},
        ],
    }  # fmt: skip
    body.update(extra)
    return body


async def call(http, method: str, url: str, expect: int = 200, **kwargs) -> dict:
    async with http.request(method, url, **kwargs) as resp:
        body = await resp.json()
        assert resp.status == expect, body
        return body


async def create_and_start(http, base: str, body: dict) -> dict:
    await call(http, "POST", f"{base}/api/experiments", json=body)
    return (await call(http, "POST", f"{base}/api/experiments/{body['key']}:start", json={}))["experiment"]


async def send(http, base: str, events: list[dict]) -> None:
    for i in range(0, len(events), 1000):
        body = await call(
            http, "POST", f"{base}/api/analytics/events:batch", json={"events": events[i : i + 1000]}
        )
        assert body["result"]["rejected"] == 0, body


def event(user: str, kind: str, ts: datetime, **props) -> dict:
    return {
        "event_id": f"ev-{uuid.uuid4().hex}",
        "user_id": user,
        "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "event_type": kind,
        "properties": props,
    }


async def test_lifecycle_and_validation(http, gateway_url):
    base = gateway_url
    key = "lifecycle"
    created = (await call(http, "POST", f"{base}/api/experiments", json=definition(key)))["experiment"]
    assert created["status"] == "draft" and created["salt"] == key and created["created_at"]
    assert created["targeting"]["traffic_share"] == 1.0
    await call(http, "POST", f"{base}/api/experiments", 409, json=definition(key))
    bad = await call(
        http, "POST", f"{base}/api/experiments", 400, json=definition("x1", variants=[{"key": "a"}])
    )
    assert any(d["field"] == "experiment.variants" for d in bad["details"])
    bad = await call(
        http, "POST", f"{base}/api/experiments", 400, json=definition("x2", variants=[{"key": "Bad Key"}])
    )
    assert any(d["field"] == "experiment.variants[0].key" for d in bad["details"]), bad
    bad_metric = definition("x3", primary_metric={"name": "m", "kind": "mean", "event": "story_creation"})
    bad = await call(http, "POST", f"{base}/api/experiments", 400, json=bad_metric)
    assert [d["field"] for d in bad["details"]] == ["experiment.primary_metric.property"]
    bad_step = definition("x4", primary_metric={"name": "m", "kind": "conversion", "event": "nope"})
    bad = await call(http, "POST", f"{base}/api/experiments", 400, json=bad_step)
    assert [d["field"] for d in bad["details"]] == ["experiment.primary_metric.event"]

    patched = await call(
        http,
        "PATCH",
        f"{base}/api/experiments/{key}",
        json=definition("", description="now with a guardrail"),
    )
    assert patched["experiment"]["description"] == "now with a guardrail"
    started = (await call(http, "POST", f"{base}/api/experiments/{key}:start", json={}))["experiment"]
    assert started["status"] == "running" and started["started_at"]
    again = await call(http, "POST", f"{base}/api/experiments/{key}:start", 400, json={})
    assert "running" in again["message"]
    frozen = definition("", primary_metric={"name": "other", "kind": "conversion", "event": "story_shared"})
    refused = await call(http, "PATCH", f"{base}/api/experiments/{key}", 400, json=frozen)
    assert [d["field"] for d in refused["details"]] == ["experiment.primary_metric"]
    listed = await call(http, "GET", f"{base}/api/experiments?status=running")
    assert key in [e["key"] for e in listed["experiments"]]
    assert (await call(http, "GET", f"{base}/api/experiments/{key}"))["experiment"]["status"] == "running"
    stopped = (await call(http, "POST", f"{base}/api/experiments/{key}:stop", json={}))["experiment"]
    assert stopped["status"] == "stopped" and stopped["stopped_at"]
    await call(http, "GET", f"{base}/api/experiments/no-such-thing", 404)
    await call(http, "GET", f"{base}/api/experiments?status=paused", 400)


async def test_assignments_are_deterministic_sticky_targeted_and_logged_once(http, gateway_url, db):
    base = gateway_url
    key = "assign-check"
    await create_and_start(
        http, base, definition(key, targeting={"age_groups": ["6-8"], "traffic_share": 0.8})
    )
    rules = Rules(key, (Arm("control", 50), Arm("treatment", 50)), frozenset({"6-8"}), traffic_share=0.8)
    users = [f"au-{key}-{i}" for i in range(60)]
    first = {}
    for user in users:
        url = f"{base}/api/experiments/assignments?user_id={user}&context.age_group=6-8&context.platform=ios"
        got = {a["experiment_key"]: a for a in (await call(http, "GET", url))["assignments"]}
        expected = assign(rules, user, Context("6-8", "ios"))
        assert (got[key]["variant"] if key in got else None) == expected
        if expected:
            assert got[key]["new_exposure"] is True
            first[user] = expected
    assert 30 < len(first) < 60  # 80 % traffic
    # Outside the targeting: not in the experiment.
    outside = await call(
        http, "GET", f"{base}/api/experiments/assignments?user_id={users[0]}x&context.age_group=3-5"
    )
    assert key not in [a["experiment_key"] for a in outside["assignments"]]

    # Weights change while running: assigned users keep their variant, new users see the new weights.
    await call(
        http, "PATCH", f"{base}/api/experiments/{key}",
        json=definition("", targeting={"age_groups": ["6-8"], "traffic_share": 0.8},
                        variants=[{"key": "control", "weight": 0}, {"key": "treatment", "weight": 1}]),
    )  # fmt: skip
    for user, variant in first.items():
        got = await call(
            http, "GET", f"{base}/api/experiments/assignments?user_id={user}&context.age_group=6-8"
        )
        mine = next(a for a in got["assignments"] if a["experiment_key"] == key)
        assert (mine["variant"], mine["new_exposure"]) == (variant, False)
    newcomers = [f"nu-{key}-{i}" for i in range(30)]
    for user in newcomers:
        got = await call(
            http, "GET", f"{base}/api/experiments/assignments?user_id={user}&context.age_group=6-8"
        )
        assert {a["variant"] for a in got["assignments"] if a["experiment_key"] == key} <= {"treatment"}

    rows = await db.fetch(
        "SELECT user_id, event_id, props->>'variant' AS variant, age_group FROM events"
        " WHERE event_type = 'experiment_exposure' AND props->>'experiment_key' = $1",
        key,
    )
    logged = {r["user_id"]: r for r in rows}
    assert len(rows) == len(logged)  # once per user
    for user, variant in first.items():
        assert logged[user]["variant"] == variant
        assert logged[user]["event_id"] == exposure_event_id(key, user)
        assert logged[user]["age_group"] == "6-8"


async def test_experiment_report_end_to_end_equals_an_independent_computation(http, gateway_url):
    base = gateway_url
    key = "report-check"
    await create_and_start(http, base, definition(key))
    rng = np.random.default_rng(11)
    users = [f"ru-{key}-{i}" for i in range(300)]
    variant = {}
    for user in users:
        got = await call(http, "GET", f"{base}/api/experiments/assignments?user_id={user}")
        variant[user] = next(a["variant"] for a in got["assignments"] if a["experiment_key"] == key)
    now = datetime.now(UTC)
    events, y, x, ctime = [], {}, {}, {}
    truth = {"control": 0.30, "treatment": 0.50}
    for user in users:
        habit = rng.random() < 0.5  # users who completed before exposure complete more after it
        x[user] = float(habit)
        if habit:
            events.append(event(user, "story_completed", now - timedelta(days=2)))
        p = truth[variant[user]] + (0.25 if habit else -0.1)
        y[user] = float(rng.random() < p)
        if y[user]:
            events.append(event(user, "story_completed", now + timedelta(seconds=5)))
        if rng.random() < 0.6:
            ctime[user] = float(rng.normal(400 if variant[user] == "control" else 380, 60))
            events.append(
                event(user, "story_creation", now + timedelta(seconds=3), creation_time=ctime[user])
            )
    # Outside the window (8 days later) or another user: not counted.
    events.append(event(users[0], "story_completed", now - timedelta(days=9)))
    await send(http, base, events)

    report = await call(http, "GET", f"{base}/api/analytics/reports/experiment?experiment_key={key}")
    tables = {t["name"]: t for t in report["tables"]}
    rows = [dict(zip(tables["results"]["columns"], r, strict=True)) for r in tables["results"]["rows"]]
    summary = report["summary"]
    assert summary["users"] == 300 and summary["srm_mismatch"] is False
    counts = {v: sum(1 for u in users if variant[u] == v) for v in ("control", "treatment")}
    assert {r[0]: r[2] for r in tables["variants"]["rows"]} == counts
    assert summary["srm_p_value"] == pytest.approx(stats.chisquare(list(counts.values())).pvalue)

    # Independent CUPED on the per-user arrays: θ pooled, y − θ(x − x̄), Welch on the adjusted values.
    ys = {v: np.array([y[u] for u in users if variant[u] == v]) for v in counts}
    xs = {v: np.array([x[u] for u in users if variant[u] == v]) for v in counts}
    ally, allx = np.concatenate(list(ys.values())), np.concatenate(list(xs.values()))
    theta = np.cov(allx, ally, ddof=1)[0, 1] / allx.var(ddof=1)
    assert summary["cuped_theta"] == pytest.approx(theta)
    adj = {v: ys[v] - theta * (xs[v] - allx.mean()) for v in counts}
    primary = {r["variant"]: r for r in rows if r["metric"] == "completed"}
    for v in counts:
        assert primary[v]["users"] == counts[v]
        assert primary[v]["value"] == pytest.approx(adj[v].mean())
        assert primary[v]["value_unadjusted"] == pytest.approx(ys[v].mean())
    welch = stats.ttest_ind(adj["treatment"], adj["control"], equal_var=False)
    t = primary["treatment"]
    assert t["p_value"] == pytest.approx(welch.pvalue, rel=1e-6)
    low, high = welch.confidence_interval(0.95)
    assert (t["diff_ci_low"], t["diff_ci_high"]) == (
        pytest.approx(low, rel=1e-6),
        pytest.approx(high, rel=1e-6),
    )
    assert t["diff"] > 0 and t["diff_ci_low"] <= 0.20 <= t["diff_ci_high"]  # the true lift
    assert t["seq_ci_low"] < t["diff_ci_low"] and t["seq_ci_high"] > t["diff_ci_high"]

    # The mean guardrail: over users with a story, their creation time.
    guard = {r["variant"]: r for r in rows if r["metric"] == "creation_time"}
    for v in counts:
        values = np.array([ctime[u] for u in users if variant[u] == v and u in ctime])
        assert guard[v]["users"] == len(values)
        assert guard[v]["value"] == pytest.approx(values.mean(), rel=1e-5)  # stored as real

    async with http.get(f"{base}/api/analytics/reports/experiment/csv?experiment_key={key}") as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
        sections = csv_export.parse(await resp.text())
    assert sections["results"][0] == tables["results"]["columns"]
    csv_t = dict(zip(sections["results"][0], sections["results"][2], strict=True))
    assert float(csv_t["p_value"]) == pytest.approx(t["p_value"], abs=1e-6)  # 6 decimals in CSV
    assert sections["variants"][1][:3] == ["control", "50.0", str(counts["control"])]

    board = await call(http, "GET", f"{base}/api/analytics/dashboard")
    mine = next(e for e in board["running_experiments"] if e["key"] == key)
    assert mine["exposed_users"] == "300" and mine["variants"] == ["control", "treatment"]
    await call(http, "POST", f"{base}/api/experiments/{key}:stop", json={})


async def test_a_skewed_split_is_flagged_as_srm(http, gateway_url):
    base = gateway_url
    key = "srm-check"
    await create_and_start(http, base, definition(key))
    now = datetime.now(UTC)
    events = [
        event(
            f"s-{key}-{i}",
            "experiment_exposure",
            now,
            experiment_key=key,
            variant="control" if i < 360 else "treatment",
        )
        for i in range(600)
    ]
    await send(http, base, events)
    report = await call(http, "GET", f"{base}/api/analytics/reports/experiment?experiment_key={key}")
    assert report["summary"]["srm_mismatch"] is True
    assert report["summary"]["srm_p_value"] == pytest.approx(stats.chisquare([360, 240]).pvalue)
    assert report["summary"]["decision"].startswith("invalid: sample ratio mismatch")
    await call(http, "GET", f"{base}/api/analytics/reports/experiment?experiment_key=nope", 404)
    await call(http, "POST", f"{base}/api/experiments/{key}:stop", json={})


async def test_a_simulated_experiment_with_a_known_effect_through_the_api(http, gateway_url, db):
    """The simulator's treatment multiplies the chance to finish a story read by 1.2 (never
    capped: at most 0.805 × 1.2 < 0.99), so the ratio story_completed / story_view has a
    true relative lift of exactly +20 %, which the report must find and cover."""
    base = gateway_url
    key = "sim-read-button"
    body = definition(
        key,
        primary_metric={"name": "completion_rate", "kind": "ratio", "event": "story_completed",
                        "denominator_event": "story_view"},
        guardrail_metrics=[],
    )  # fmt: skip
    await create_and_start(http, base, body)
    exp = SimExperiment(key, "story_completed", effect=0.2, share=0.5)
    # A fixed past fortnight: the same events on every run (weekdays and all).
    sim = Simulation(500, 14, seed=90210, now=SIM_NOW, config=SimConfig(experiments=(exp,)))
    events = [e for batch in sim.run() for e in batch.events]
    summary = await send_events_http(base, events, batch_size=1000)
    assert summary.rejected == 0

    # The simulator's variants are the service's: asking GetAssignments gives the same
    # variant, and its exposure event is the simulator's (a duplicate, not a second one).
    exposed = {
        e["user_id"]: e["properties"]["variant"] for e in events if e["event_type"] == "experiment_exposure"
    }
    for user_id in list(exposed)[:25]:
        got = await call(http, "GET", f"{base}/api/experiments/assignments?user_id={user_id}")
        assert (
            next(a["variant"] for a in got["assignments"] if a["experiment_key"] == key) == exposed[user_id]
        )
    count = await db.fetchval(
        "SELECT count(*) FROM events"
        " WHERE event_type = 'experiment_exposure' AND props->>'experiment_key' = $1",
        key,
    )
    assert count == len(exposed)

    window = f"start_date={SIM_NOW.date() - timedelta(days=20)}&end_date={SIM_NOW.date()}"
    report = await call(http, "GET", f"{base}/api/analytics/reports/experiment?experiment_key={key}&{window}")
    rows = [dict(zip(report["tables"][1]["columns"], r, strict=True)) for r in report["tables"][1]["rows"]]
    t = next(r for r in rows if r["variant"] == "treatment")
    assert report["summary"]["srm_mismatch"] is False
    assert t["lift"] > 0 and t["lift_ci_low"] > 0
    assert t["lift_ci_low"] <= 0.2 <= t["lift_ci_high"], t
    await call(http, "POST", f"{base}/api/experiments/{key}:stop", json={})


async def test_the_experiment_service_is_in_health_and_reflection(analytics):
    name = "storyverse.analytics.v1.ExperimentService"
    async with grpc.aio.insecure_channel(f"127.0.0.1:{analytics.port}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=name))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        async for response in reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([request])
        ):
            assert name in {s.name for s in response.list_services_response.service}
            break
