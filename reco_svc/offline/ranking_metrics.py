"""Top-k ranking metrics with binary relevance (pure functions, MS Recommenders definitions)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def _hits(recommended: Sequence[int], relevant: set[int], k: int) -> np.ndarray:
    return np.array([item in relevant for item in list(recommended)[:k]], dtype=float)


def precision_at_k(recommended: Sequence[int], relevant: set[int], k: int = 10) -> float:
    """Hits in the top k divided by k (not by the list length, as MS Recommenders does)."""
    return float(_hits(recommended, relevant, k).sum() / k)


def recall_at_k(recommended: Sequence[int], relevant: set[int], k: int = 10) -> float:
    if not relevant:
        return 0.0
    return float(_hits(recommended, relevant, k).sum() / len(relevant))


def ndcg_at_k(recommended: Sequence[int], relevant: set[int], k: int = 10) -> float:
    """Binary-relevance nDCG with a log2(rank + 1) discount; ideal DCG over min(|relevant|, k)."""
    if not relevant:
        return 0.0
    hits = _hits(recommended, relevant, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = float((hits * discounts[: len(hits)]).sum())
    ideal = float(discounts[: min(len(relevant), k)].sum())
    return dcg / ideal


def map_at_k(recommended: Sequence[int], relevant: set[int], k: int = 10) -> float:
    """Sum of precision at each hit within the top k, divided by the number of relevant items."""
    if not relevant:
        return 0.0
    hits = _hits(recommended, relevant, k)
    precisions = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precisions * hits).sum() / len(relevant))


def catalog_coverage(recommendation_lists: Iterable[Sequence[int]], n_items: int) -> float:
    """Distinct recommended items divided by the catalog size."""
    seen: set[int] = set()
    for recs in recommendation_lists:
        seen.update(int(i) for i in recs)
    return len(seen) / n_items if n_items else 0.0


def mean_ranking_metrics(
    recommendations: dict[int, Sequence[int]], relevant: dict[int, set[int]], k: int = 10
) -> dict[str, float]:
    """Average nDCG/precision/recall/MAP over the users that have recommendations."""
    users = [u for u in recommendations if relevant.get(u)]
    if not users:
        return {f"ndcg@{k}": 0.0, f"precision@{k}": 0.0, f"recall@{k}": 0.0, f"map@{k}": 0.0}
    rows = [
        (
            ndcg_at_k(recommendations[u], relevant[u], k),
            precision_at_k(recommendations[u], relevant[u], k),
            recall_at_k(recommendations[u], relevant[u], k),
            map_at_k(recommendations[u], relevant[u], k),
        )
        for u in users
    ]
    means = np.asarray(rows).mean(axis=0)
    return {
        f"ndcg@{k}": float(means[0]),
        f"precision@{k}": float(means[1]),
        f"recall@{k}": float(means[2]),
        f"map@{k}": float(means[3]),
    }
