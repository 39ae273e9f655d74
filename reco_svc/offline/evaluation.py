"""Turn score matrices into top-k lists and evaluate them against held-out interactions."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from reco_svc.offline import ranking_metrics as metrics

SCORE_CELLS_PER_BATCH = 4_000_000
MIN_SAMPLED_USERS = 1000


class Model(Protocol):
    def fit(self, interactions: sp.csr_matrix) -> object: ...

    def score(self, user_rows: sp.csr_matrix) -> np.ndarray: ...


def top_k(scores: np.ndarray, k: int, exclude: sp.csr_matrix | None = None) -> np.ndarray:
    """Indices of the k best items per row, best first; `exclude` entries can never be returned.

    Ties are broken by the lower item index so results are deterministic.
    """
    scores = np.array(scores, dtype=np.float64, copy=True)
    if exclude is not None:
        rows, cols = exclude.nonzero()
        scores[rows, cols] = -np.inf
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    best = np.take_along_axis(part, order, axis=1)
    # Excluded items are returned as -1 when a row has fewer than k allowed items.
    best_scores = np.take_along_axis(scores, best, axis=1)
    return np.where(np.isneginf(best_scores), -1, best)


@dataclass(frozen=True)
class EvaluationResult:
    metrics: dict[str, float]
    users_scored: int
    train_seconds: float


def evaluate(model: Model, train: sp.csr_matrix, test: sp.csr_matrix, k: int = 10) -> EvaluationResult:
    """Fit on `train`, recommend k unseen items to every user present in both sets, score on `test`."""
    start = time.perf_counter()
    model.fit(train)
    train_seconds = time.perf_counter() - start
    found, users_scored = ranking_metrics(model, train, test, k)
    return EvaluationResult(found, users_scored, train_seconds)


def ranking_metrics(
    model: Model,
    train: sp.csr_matrix,
    test: sp.csr_matrix,
    k: int = 10,
    max_cells: int | None = None,
) -> tuple[dict[str, float], int]:
    """A fitted model's top-k metrics on `test` for the users present in both sets, and how many.

    `max_cells`: score at most that many user x item cells (a fixed random sample of the users,
    seed 0, at least MIN_SAMPLED_USERS), so metrics on a big catalog cost what a few thousand
    users cost, not users x items."""
    users = np.flatnonzero((train.getnnz(axis=1) > 0) & (test.getnnz(axis=1) > 0))
    if max_cells is not None:
        most = max(MIN_SAMPLED_USERS, max_cells // max(train.shape[1], 1))
        if users.size > most:
            users = np.sort(np.random.default_rng(0).choice(users, most, replace=False))
    batch = max(64, SCORE_CELLS_PER_BATCH // max(train.shape[1], 1))  # bounded memory on big catalogs
    recommendations: dict[int, list[int]] = {}
    for offset in range(0, len(users), batch):
        chunk = users[offset : offset + batch]
        rows = train[chunk]
        best = top_k(model.score(rows), k, exclude=rows)
        for user, items in zip(chunk, best, strict=True):
            recommendations[int(user)] = [int(i) for i in items if i >= 0]
    test_rows = sp.csr_matrix(test[users])
    relevant = {
        int(u): set(test_rows.indices[test_rows.indptr[n] : test_rows.indptr[n + 1]].tolist())
        for n, u in enumerate(users)
    }
    result = metrics.mean_ranking_metrics(recommendations, relevant, k)
    result["coverage"] = metrics.catalog_coverage(recommendations.values(), train.shape[1])
    return result, len(users)
