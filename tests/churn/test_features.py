"""Activity counters and features on hand-built histories; no look past the cut-off."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from analytics_svc.churn import logistic
from analytics_svc.churn.activity import CH, from_events
from analytics_svc.churn.features import FEATURES, returned, snapshot, sufficient_stats
from analytics_svc.churn.rf_rule import quintile, rf_score

START = date(2026, 1, 5)


def ev(user, day, kind, hour=10, **props):
    return {
        "user_id": user,
        "event_type": kind,
        "timestamp": f"2026-01-{5 + day:02d}T{hour:02d}:00:00Z",
        "properties": {"age_group": "6-8", "device_type": "tablet", "platform": "ios", **props},
    }


def history():
    events = [
        ev("a", 0, "session_start"),
        ev("a", 0, "story_started"),
        ev("a", 0, "story_creation"),
        ev("a", 0, "story_view"),
        ev("a", 0, "story_completed"),
        ev("a", 4, "session_start", hour=20),
        ev("a", 4, "story_started", hour=20),  # abandoned before creation
        ev("a", 9, "session_start"),  # after the cut-off of 7: a return
        ev("b", 6, "session_start", platform="android"),
    ]
    feedback = [{"user_id": "a", "timestamp": "2026-01-05T11:00:00Z", "rating": 2, "sentiment_score": -0.5}]
    return from_events(events, feedback, START, 14)


def test_counters_per_day():
    act = history()
    a = act.user_ids.index("a")
    assert act.counts[a, 0, CH["sessions"]] == 1
    assert act.counts[a, 4, CH["evening_sessions"]] == 1
    assert act.counts[a, 0, CH["low_ratings"]] == 1
    assert act.counts[a, 0, CH["sentiment_sum"]] == -0.5
    assert act.platform[act.user_ids.index("b")] == "android"


def test_features_at_a_cutoff():
    act = history()
    snap = snapshot(act, 7)
    assert [act.user_ids[u] for u in snap.users] == ["a", "b"]
    a = 0
    f = dict(zip(FEATURES, snap.X(7)[a], strict=True))
    assert f["days_since_last_visit"] == pytest.approx(np.log1p(3))  # last active day 4, cut-off 7
    assert f["account_age"] == pytest.approx(np.log1p(7))
    assert f["active_days_7"] == pytest.approx(np.log1p(2))
    assert f["last_day_abandoned"] == 1 and f["last_day_completed"] == 0
    assert f["mean_rating"] == -1.0 and f["has_rated"] == 1.0 and f["sentiment"] == -0.5
    assert f["evening_share"] == 0.5
    assert f["age_group=6-8"] == 1.0 and f["platform=ios"] == 1.0
    assert list(returned(act, snap.users, 7, 7)) == [1.0, 0.0]


def test_nothing_after_the_cutoff_changes_the_features():
    act = history()
    before = snapshot(act, 7).behaviour.copy()
    act.counts[:, 7:] = np.random.default_rng(0).integers(0, 5, act.counts[:, 7:].shape)
    assert np.array_equal(snapshot(act, 7).behaviour, before)


def test_sufficient_stats_count_active_days():
    users, x, t_x, T = sufficient_stats(history(), 7)
    act = history()
    a = list(users).index(act.user_ids.index("a"))
    assert (x[a], t_x[a], T[a]) == (1.0, 4.0, 7.0)


def test_rf_rule_orders_recent_and_frequent_first():
    assert list(quintile(np.arange(10.0))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    score = rf_score(np.array([1, 20, 1]), np.array([10, 1, 1]))
    assert score[0] > score[2] > score[1]


def test_logistic_regression_recovers_coefficients_and_explains_its_logit():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40_000, 3)) * [1.0, 2.0, 0.5] + [0.0, 1.0, -1.0]
    true_logit = 0.3 + X @ [1.0, -0.5, 0.0]
    y = (rng.uniform(size=len(X)) < 1 / (1 + np.exp(-true_logit))).astype(float)
    model = logistic.fit(X, y, ("a", "b", "c"), l2=1.0)
    raw = model.coef / model.scale  # per unit of the raw feature
    assert raw == pytest.approx([1.0, -0.5, 0.0], abs=0.05)
    assert model.contributions(X[:5]).sum(axis=1) + model.intercept == pytest.approx(model.logit(X[:5]))
    again = logistic.LogisticModel.from_dict(model.to_dict())
    assert np.allclose(again.predict(X[:100]), model.predict(X[:100]))


def test_two_part_model_fits_a_gate_times_a_pace_better_than_one_logit():
    """Data drawn as sigmoid(gate) x sigmoid(pace) with different inputs in each part: the
    two-part model recovers the product (probabilities and likelihood) where one logistic
    cannot, and round-trips through its JSON document."""
    rng = np.random.default_rng(9)
    X = rng.normal(size=(30_000, 3))
    p = 1 / (1 + np.exp(-(1.0 + 2.0 * X[:, 0]))) * 1 / (1 + np.exp(-(0.5 - 2.0 * X[:, 1])))
    y = (rng.uniform(size=len(X)) < p).astype(float)
    names = ("a", "b", "c")
    two = logistic.fit_two_part(X, y, names, l2=1.0)
    one = logistic.fit(X, y, names, l2=1.0)

    def loglik(q):
        q = np.clip(q, 1e-9, 1 - 1e-9)
        return float(np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))

    assert loglik(two.predict(X)) > loglik(one.predict(X)) + 0.01
    assert np.abs(two.predict(X) - p).mean() < 0.02 < np.abs(one.predict(X) - p).mean()
    again = logistic.from_dict(two.to_dict())
    assert isinstance(again, logistic.TwoPartModel)
    assert np.allclose(again.predict(X[:100]), two.predict(X[:100]))
    assert again.contributions(X[:3]).shape == (3, 3)
    assert isinstance(logistic.from_dict(one.to_dict()), logistic.LogisticModel)
