"""Rating-drop detection on synthetic series."""

from __future__ import annotations

import random

from feedback_svc.alerts.anomaly import DropRule, alarms, check_series, lower_tail, rating_drop

GOOD = (1, 1, 3, 10, 20)  # weights of 1..5 stars: a well-liked story, mean about 4.3
BAD = (12, 10, 4, 1, 1)  # after something broke, mean about 1.9


def ratings(n: int, rng: random.Random, weights) -> list[int]:
    return rng.choices([1, 2, 3, 4, 5], weights=weights, k=n)


def test_a_sudden_drop_is_found_soon_after_it_starts():
    delays = []
    for seed in range(100):
        rng = random.Random(1000 + seed)
        series = ratings(60, rng, GOOD) + ratings(30, rng, BAD)
        after = [i for i in alarms(series) if i >= 60]
        delays.append(after[0] - 60 if after else None)
    found = sorted(d for d in delays if d is not None)
    assert len(found) >= 95, "drops must be detected"
    assert found[len(found) // 2] <= 8  # median: within 8 new ratings


def test_stable_series_rarely_alarm():
    noisy = 0
    for seed in range(100):
        rng = random.Random(seed)
        weights = [GOOD, (1, 1, 1, 3, 20), (5, 3, 3, 5, 5)][seed % 3]  # skewed, very skewed, polarised
        noisy += bool(alarms(ratings(100, rng, weights)))
    assert noisy <= 2


def test_alarms_do_not_precede_the_change():
    rng = random.Random(3)
    series = ratings(80, rng, GOOD) + ratings(20, rng, BAD)
    assert all(i >= 80 for i in alarms(series))


def test_one_bad_rating_among_perfect_ones_is_not_a_drop():
    assert alarms([5] * 40 + [5, 5, 5, 1, 5, 5, 5, 5, 5, 5]) == []


def test_a_small_but_significant_dip_is_not_enough():
    # Half a star lower on every one of the latest ratings: clear, but not an incident.
    test = rating_drop([5] * 50 + [4] * 50, [4] * 10)
    assert test is not None and not test.anomalous and test.drop == 0.5


def test_too_little_data_tells_nothing():
    assert check_series([5, 5, 5, 1, 1, 1, 1, 1, 1, 1, 1]) is None
    assert rating_drop([5] * 30, [1, 1]) is None


def test_the_exact_tail_probability():
    fair = {star: 0.2 for star in range(1, 6)}
    assert lower_tail(fair, 1, 1) == 0.2
    assert abs(lower_tail(fair, 2, 2) - 0.04) < 1e-12  # (1, 1) only
    assert abs(lower_tail(fair, 2, 3) - 0.12) < 1e-12  # (1, 1), (1, 2), (2, 1)


def test_the_test_reports_its_figures():
    test = rating_drop([5, 4] * 10, [2] * 10, DropRule())
    assert test is not None and test.anomalous
    assert (test.baseline_mean, test.recent_mean, test.drop) == (4.5, 2.0, 2.5)
    assert test.p_value < 1e-5
