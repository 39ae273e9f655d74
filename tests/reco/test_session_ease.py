"""Session EASE: the time-weighted Gram, the closed form on it, and its place in tuning and serving."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from reco_svc.offline.data import read_interactions, to_time_csr
from reco_svc.offline.evaluation import top_k
from reco_svc.offline.file_evaluation import run
from reco_svc.offline.models import FAMILIES
from reco_svc.offline.models.ease import EaseModel
from reco_svc.offline.models.session_ease import MIN_STRENGTH, SessionEaseModel, time_kernel_gram
from reco_svc.offline.splits import per_item_split
from reco_svc.offline.tuning import tune


def _random_pairs(seed: int, n_users: int = 12, n_items: int = 9, per_user: int = 5):
    rng = np.random.default_rng(seed)
    users, items, times = [], [], []
    for user in range(n_users):
        picked = rng.choice(n_items, size=per_user, replace=False)
        users += [user] * per_user
        items += picked.tolist()
        # Sessions: a few picks seconds to minutes apart, then days later.
        times += np.cumsum(rng.choice([5.0, 60.0, 400.0, 3 * 86400.0], size=per_user)).tolist()
    return np.array(users), np.array(items), np.array(times), n_users, n_items


def _direct_kernel(users, items, times, n_items, tau, strengths=None):
    """The definition, one pair of picks at a time."""
    w = np.ones(len(users)) if strengths is None else strengths
    kernel = np.zeros((n_items, n_items))
    for a in range(len(users)):
        for b in range(len(users)):
            if users[a] == users[b]:
                kernel[items[a], items[b]] += w[a] * w[b] * np.exp(-abs(times[a] - times[b]) / tau)
    return kernel


def _direct_ease(gram, degree, l2, alpha):
    """EASE's closed form on a given Gram, written out: B = I - P diag(1/diag(P)), mapped back."""
    d = np.diag(np.maximum(degree, 1.0) ** -alpha)
    precision = np.linalg.inv(d @ gram @ d + l2 * np.eye(len(degree)))
    weights = np.eye(len(degree)) - precision / np.diag(precision)[np.newaxis, :]
    return d @ weights @ np.linalg.inv(d)


@pytest.mark.parametrize("tau", [30.0, 600.0, 1e6])
@pytest.mark.parametrize("weighted", [False, True])
def test_the_time_kernel_gram_is_the_sum_over_pairs_of_picks(tau, weighted):
    users, items, times, _, n_items = _random_pairs(1)
    strengths = np.random.default_rng(8).uniform(0.2, 2.0, len(users)) if weighted else None
    found = time_kernel_gram(users, items, times, n_items, tau, strengths)
    np.testing.assert_allclose(
        found, _direct_kernel(users, items, times, n_items, tau, strengths), rtol=1e-10, atol=1e-12
    )


def test_a_long_tau_counts_every_pair_of_a_user_as_plain_cooccurrence():
    users, items, times, n_users, n_items = _random_pairs(2)
    x = sp.csr_matrix((np.ones(len(users)), (users, items)), shape=(n_users, n_items))
    found = time_kernel_gram(users, items, times, n_items, tau=1e15)
    np.testing.assert_allclose(found, (x.T @ x).toarray(), rtol=1e-7)


@pytest.mark.parametrize(("tau", "floor", "l2", "alpha"), [(60.0, 0.25, 2.0, 0.3), (900.0, 0.0, 0.5, 0.0)])
def test_session_ease_is_ease_on_the_time_weighted_gram(tau, floor, l2, alpha):
    users, items, times, n_users, n_items = _random_pairs(3)
    x = sp.csr_matrix((np.ones(len(users), np.float32), (users, items)), shape=(n_users, n_items))
    stamps = to_time_csr(users, items, times, n_users, n_items)
    model = SessionEaseModel(l2=l2, item_alpha=alpha, tau=tau, floor=floor).fit(x, times=stamps)

    gram = floor * (x.T @ x).toarray() + (1 - floor) * _direct_kernel(users, items, times, n_items, tau)
    expected = _direct_ease(gram, np.asarray(x.sum(axis=0)).ravel(), l2, alpha)
    np.testing.assert_allclose(model.dense_weights(), expected, rtol=2e-4, atol=2e-5)
    assert np.all(np.diag(model.dense_weights()) == 0)


@pytest.mark.parametrize("rating", [0.3, 0.8])
def test_ratings_weigh_each_pair_by_the_strengths_of_its_two_picks(rating):
    """w = max(1 + c (r - mid), MIN_STRENGTH), mid the middle of the ratings' range (3 for 1-5)."""
    users, items, times, n_users, n_items = _random_pairs(9)
    stars = np.random.default_rng(10).integers(1, 6, len(users)).astype(float)
    stars[:2] = (1.0, 5.0)  # the range is 1-5 whatever the draw
    x = sp.csr_matrix((np.ones(len(users), np.float32), (users, items)), shape=(n_users, n_items))
    model = SessionEaseModel(l2=2.0, item_alpha=0.3, tau=300.0, floor=0.3, rating=rating)
    model.fit(
        x,
        times=to_time_csr(users, items, times, n_users, n_items),
        ratings=to_time_csr(users, items, times, n_users, n_items, stars),
    )
    w = np.maximum(1.0 + rating * (stars - 3.0), MIN_STRENGTH)
    xw = sp.csr_matrix((w, (users, items)), shape=(n_users, n_items))
    gram = 0.3 * (xw.T @ xw).toarray() + 0.7 * _direct_kernel(users, items, times, n_items, 300.0, w)
    expected = _direct_ease(gram, np.asarray(x.sum(axis=0)).ravel(), 2.0, 0.3)
    np.testing.assert_allclose(model.dense_weights(), expected, rtol=2e-4, atol=2e-5)


def test_without_times_or_with_floor_one_it_is_plain_ease():
    users, items, times, n_users, n_items = _random_pairs(4)
    x = sp.csr_matrix((np.ones(len(users), np.float32), (users, items)), shape=(n_users, n_items))
    plain = EaseModel(l2=3.0, item_alpha=0.2).fit(x).dense_weights()
    stamps = to_time_csr(users, items, times, n_users, n_items)
    untimed = SessionEaseModel(l2=3.0, item_alpha=0.2, tau=60.0, floor=0.1).fit(x).dense_weights()
    floor_one = SessionEaseModel(l2=3.0, item_alpha=0.2, tau=60.0, floor=1.0).fit(x, times=stamps)
    np.testing.assert_allclose(untimed, plain, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(floor_one.dense_weights(), plain, rtol=1e-6, atol=1e-7)


def test_picks_close_in_time_rank_first_where_plain_ease_cannot_tell():
    """Items 1 and 2 are each picked with item 0 by 10 users: item 1 within a minute of it,
    item 2 months apart. Plain EASE scores them alike; session EASE puts item 1 first."""
    users, items, times = [], [], []
    for user in range(20):
        other = 1 if user < 10 else 2
        gap = 30.0 if other == 1 else 90 * 86400.0
        users += [user, user]
        items += [0, other]
        times += [1e6 * user, 1e6 * user + gap]
    users, items, times = np.array(users), np.array(items), np.array(times)
    x = sp.csr_matrix((np.ones(len(users), np.float32), (users, items)), shape=(20, 4))
    stamps = to_time_csr(users, items, times, 20, 4)
    picked_0 = sp.csr_matrix(np.eye(1, 4, 0, dtype=np.float32))

    plain = EaseModel(l2=1.0).fit(x).score(picked_0)[0]
    assert plain[1] == pytest.approx(plain[2])
    session = SessionEaseModel(l2=1.0, item_alpha=0.0, tau=600.0, floor=0.2).fit(x, times=stamps)
    scores = session.score(picked_0)
    assert scores[0, 1] > scores[0, 2]
    assert top_k(scores, 1, exclude=picked_0)[0, 0] == 1


def test_the_tuned_blend_is_served_as_one_item_item_matrix():
    users, items, times, n_users, n_items = _random_pairs(5, n_users=40, n_items=12)
    x = sp.csr_matrix((np.ones(len(users), np.float32), (users, items)), shape=(n_users, n_items))
    family = FAMILIES["session_ease_lowpass"]
    model = family.build({**family.prior, "rank": 4.0})
    model.fit(x, times=to_time_csr(users, items, times, n_users, n_items))
    np.testing.assert_allclose(model.score(x), x.toarray() @ model.dense_weights(), rtol=1e-4, atol=1e-5)


def _timed_taste_file(path: Path, seed: int = 3, n_users: int = 120) -> Path:
    """Four tastes, picked in sessions: a user's liked items minutes apart, the noise weeks later."""
    rng = np.random.default_rng(seed)
    lines = []
    for user in range(n_users):
        block = user % 4
        liked = rng.choice(np.arange(block * 10, block * 10 + 10), size=6, replace=False)
        noise = [i for i in rng.choice(40, size=3, replace=False) if i not in liked]
        start = 1e8 + rng.integers(0, 10**7)
        for n, item in enumerate(liked):
            lines.append(f"u{user}\ti{item}\t5\t{int(start + 60 * n)}")
        for n, item in enumerate(noise):
            lines.append(f"u{user}\ti{item}\t3\t{int(start + (n + 2) * 20 * 86400)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_timestamps_reach_tuning_for_the_training_part_only(tmp_path):
    """The session family is considered when the file has timestamps; the choice is the same
    whatever the test part's timestamps and ratings are."""
    path_a = _timed_taste_file(tmp_path / "a.tsv")
    data = read_interactions(path_a)
    assert data.times is not None and len(data.times) == len(data.users)
    _, test_mask = per_item_split(data.items, seed=42)
    rows = path_a.read_text().splitlines()
    rng = np.random.default_rng(7)
    changed = [
        "\t".join([*row.split("\t")[:2], "1", str(int(rng.integers(0, 10**9)))]) if test_mask[n] else row
        for n, row in enumerate(rows)
    ]
    path_b = tmp_path / "b.tsv"
    path_b.write_text("\n".join(changed) + "\n")

    first = run(path_a, "auto", seed=42, budget=600)
    second = run(path_b, "auto", seed=42, budget=600)
    assert first["tuning"]["families"]["session_ease_lowpass"].startswith("prior validation")
    assert data.weights is not None and set(data.weights) == {3.0, 5.0}
    for key in ("family", "params", "validation_ndcg@10", "candidates", "families"):
        assert first["tuning"][key] == second["tuning"][key], key


def test_without_timestamps_the_session_family_is_skipped():
    rng = np.random.default_rng(6)
    train = sp.csr_matrix((rng.random((60, 20)) < 0.2).astype(np.float32))
    _, choice = tune(train, budget_seconds=600)
    assert choice.considered["session_ease_lowpass"] == "skipped: the pairs have no timestamps"
    assert choice.family != "session_ease_lowpass"
