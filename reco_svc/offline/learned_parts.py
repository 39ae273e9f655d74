"""The learned parts of a trained model: collaborative weights, co-occurrence, offline metrics.

    artifact = build_artifact(entries, interactions, ..., learner=Learned("ease_lowpass"))

reco_svc.model_assembly puts them beside the attribute part and the context rows.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from reco_svc.model_assembly import Step
from reco_svc.offline.evaluation import evaluate
from reco_svc.offline.models import DEFAULT_MODEL, make_model
from reco_svc.offline.models.cooccurrence import CooccurrenceModel
from reco_svc.offline.models.popularity import PopularityModel
from reco_svc.offline.splits import per_item_split

MIN_USERS_FOR_CF = 3
MIN_USERS_FOR_METRICS = 20


class Learned:
    """`model_name`: a name of reco_svc.offline.models.MODELS (default DEFAULT_MODEL)."""

    def __init__(self, model_name: str | None = None) -> None:
        self.model_name = model_name or DEFAULT_MODEL

    def collaborative(self, matrix: sp.csr_matrix) -> tuple[np.ndarray, str]:
        n_items = matrix.shape[1]
        if matrix.shape[0] < MIN_USERS_FOR_CF or matrix.nnz == 0:
            return np.zeros((n_items, n_items), dtype=np.float32), "none (too few users)"
        name, model = make_model(self.model_name, n_items)
        model.fit(matrix)  # type: ignore[attr-defined]
        return model.dense_weights(), name  # type: ignore[attr-defined]

    def cooccurrence(self, matrix: sp.csr_matrix) -> np.ndarray:
        n_items = matrix.shape[1]
        if matrix.nnz == 0:
            return np.zeros((n_items, n_items), dtype=np.float32)
        return CooccurrenceModel(similarity="cosine").fit(matrix).dense_weights()

    def metrics(self, matrix: sp.csr_matrix, step: Step) -> dict[str, float]:
        found = offline_metrics(matrix, self.model_name)
        if found:
            shown = ", ".join(f"{k}={v:.3f}" for k, v in sorted(found.items()) if "ndcg" in k)
            step(f"offline metrics: {shown}")
        else:
            step(f"offline metrics: skipped (fewer than {MIN_USERS_FOR_METRICS} users)")
        return found


def offline_metrics(matrix: sp.csr_matrix, model_name: str, k: int = 10) -> dict[str, float]:
    """Per-item 75/25 split of the user x item pairs; collaborative model vs popularity."""
    if matrix.shape[0] < MIN_USERS_FOR_METRICS:
        return {}
    coo = matrix.tocoo()
    train_mask, test_mask = per_item_split(coo.col)
    shape = matrix.shape

    def part(mask: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix((coo.data[mask], (coo.row[mask], coo.col[mask])), shape=shape)

    train, test = part(train_mask), part(test_mask)
    found: dict[str, float] = {}
    _, model = make_model(model_name, shape[1])
    for prefix, candidate in (("collaborative", model), ("popularity", PopularityModel())):
        result = evaluate(candidate, train, test, k=k)  # type: ignore[arg-type]
        found.update({f"{prefix}_{name}": round(value, 5) for name, value in result.metrics.items()})
    return found
