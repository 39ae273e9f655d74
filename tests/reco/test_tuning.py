"""Automatic tuning: chosen on the training part only, within its budget, recorded with its reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from reco_svc.offline.data import read_interactions
from reco_svc.offline.file_evaluation import run
from reco_svc.offline.models.ease import MAX_DENSE_ITEMS
from reco_svc.offline.splits import per_item_split
from reco_svc.offline.tuning import PROBE_ABOVE, tune, validation_split


def _taste_events(seed: int = 3, users: int = 120, items: int = 40) -> list[tuple[str, str]]:
    """Users with one of four tastes (a block of items each) plus some noise."""
    rng = np.random.default_rng(seed)
    events = []
    for user in range(users):
        block = user % 4
        liked = rng.choice(np.arange(block * 10, block * 10 + 10), size=6, replace=False)
        noise = rng.choice(items, size=3, replace=False)
        for item in {*liked.tolist(), *noise.tolist()}:
            events.append((f"u{user}", f"i{item}"))
    return events


def _write(path: Path, events: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f"{u},{i}\n" for u, i in events))
    return path


def test_the_choice_never_depends_on_the_test_part(tmp_path):
    """Two files with the same training part and different test parts: the same choice,
    different test metrics. The test part's users are moved to other users, which leaves the
    per-item split (it depends on the items only) and so the training part unchanged."""
    events = _taste_events()
    path_a = _write(tmp_path / "a.csv", events)
    data = read_interactions(path_a)
    train_mask, test_mask = per_item_split(data.items, seed=42)
    train_users = {events[n][0] for n in np.flatnonzero(train_mask)}
    assert train_users == {u for u, _ in events}  # every user keeps a training event
    rng = np.random.default_rng(9)
    users = sorted(train_users)
    moved = [
        (users[rng.integers(len(users))], item) if test_mask[n] else (user, item)
        for n, (user, item) in enumerate(events)
    ]
    path_b = _write(tmp_path / "b.csv", moved)

    first = run(path_a, "auto", seed=42, budget=600)
    second = run(path_b, "auto", seed=42, budget=600)

    assert first["tuning"]["reason"].split("; ")[:-1] == second["tuning"]["reason"].split("; ")[:-1]
    same = ("family", "params", "validation_ndcg@10", "prior_validation_ndcg@10", "candidates", "families")
    for key in same:
        assert first["tuning"][key] == second["tuning"][key], key
    assert first["n_train"] == second["n_train"]
    assert first["ndcg@10"] != second["ndcg@10"]  # the test parts do differ
    assert first["tuning"]["candidates"] > 3  # a search happened, not just the prior


def test_validation_is_carved_from_the_given_pairs_only():
    rng = np.random.default_rng(1)
    train = sp.csr_matrix((rng.random((50, 30)) < 0.2).astype(np.float32))
    fit, valid = validation_split(train)
    assert fit.nnz + valid.nnz == train.nnz
    assert (fit.multiply(valid)).nnz == 0
    assert abs((fit + valid) - train).sum() == 0


def test_a_spent_budget_scores_the_first_candidate_only():
    rng = np.random.default_rng(2)
    train = sp.csr_matrix((rng.random((80, 40)) < 0.15).astype(np.float32))
    model, choice = tune(train, budget_seconds=0.0)
    assert len(choice.trials) == 1
    assert "skipped: budget" in choice.considered.values()
    assert choice.stopped == "stopped by the budget"
    assert model.score(train[:2]).shape == (2, 40)
    assert "of a 0 s budget" in choice.reason()


def test_dense_families_are_not_considered_above_the_dense_limit():
    rng = np.random.default_rng(4)
    n_items = MAX_DENSE_ITEMS + 1
    rows = np.repeat(np.arange(300), 12)
    cols = rng.integers(0, n_items, size=rows.size)
    train = sp.csr_matrix((np.ones(rows.size, np.float32), (rows, cols)), shape=(300, n_items))
    _, choice = tune(train, budget_seconds=600, families=["ease_lowpass", "sparse_ease_lowpass"])
    assert choice.considered["ease_lowpass"].startswith("skipped: a dense")
    assert choice.family == "sparse_ease_lowpass"


def test_above_the_probe_size_the_first_candidate_runs_on_a_sample_the_budget_buys():
    rng = np.random.default_rng(5)
    train = sp.csr_matrix((rng.random((3000, 400)) < 0.45).astype(np.float32))
    assert train.nnz > PROBE_ABOVE
    # A spent budget: the probe (the first family's prior, one fold of a PROBE_PAIRS sample)
    # is the whole search, never a fit of all the pairs.
    _, spent = tune(train, budget_seconds=0.0)
    assert spent.sampled_users is not None and spent.sampled_users < train.shape[0]
    assert len(spent.trials) == 1 and spent.folds == 1
    assert spent.stopped == "stopped by the budget"
    # A budget that buys every pair: no sample.
    _, ample = tune(train, budget_seconds=1e6, families=["ease_lowpass"])
    assert ample.sampled_users is None and ample.folds == 3  # cheap folds: all three
