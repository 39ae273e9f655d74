"""The learned parts of a trained model: collaborative weights, co-occurrence, offline metrics.

    artifact = build_artifact(entries, interactions, ..., learner=Learned())           # tuned
    artifact = build_artifact(entries, interactions, ..., learner=Learned("ease"))     # fixed

reco_svc.model_assembly puts them beside the attribute part and the context rows.

Tuned (model "auto", the default): the user x item pairs are split per item 75/25 (seed 42);
tuning.py chooses family and hyper-parameters on a validation split of the 75% part, within the
budget, with the reading weights (reading.py) when the pairs carry reading signals
(`reading_weights`, called first: the matrix depends on them); that model's scores on the 25%
part (its pairs that show taste, signal_matrix.py) are the registry's offline metrics (beside
popularity's); then the chosen configuration is fitted on all pairs and served. With fewer
than MIN_USERS_FOR_METRICS users there is nothing to hold out: tuning runs on all pairs.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from reco_svc.model_assembly import Step
from reco_svc.offline.evaluation import evaluate, ranking_metrics
from reco_svc.offline.models import AUTO, DEFAULT_MODEL, FAMILIES, make_model
from reco_svc.offline.models.blend import BlendModel
from reco_svc.offline.models.cooccurrence import CooccurrenceModel
from reco_svc.offline.models.popularity import PopularityModel
from reco_svc.offline.models.sparse_ease import SparseEaseModel
from reco_svc.offline.splits import per_item_split
from reco_svc.offline.tuning import DEFAULT_BUDGET_SECONDS, tune
from reco_svc.reading import DEFAULT, ReadingWeights
from reco_svc.signal_matrix import SignalPairs
from reco_svc.similarity import NeighbourGraph, top_k_similar

COOC_NEIGHBOURS = 50
MIN_USERS_FOR_CF = 3
MIN_USERS_FOR_METRICS = 20
K = 10
# The offline metrics of a tuned model score at most this many user x item cells (a fixed
# sample of the test users on big catalogs; every user below it).
METRIC_CELLS = 500_000_000


class Learned:
    """`model_name`: "auto" (tuned) or a name of reco_svc.offline.models.MODELS."""

    def __init__(self, model_name: str | None = None, budget_seconds: float = DEFAULT_BUDGET_SECONDS) -> None:
        self.model_name = model_name or DEFAULT_MODEL
        self.budget_seconds = budget_seconds
        self.tuning: dict[str, object] = {}
        self._metrics: dict[str, float] | None = None
        self._tuned: tuple | None = None  # (model, choice, train mask, pairs) of reading_weights
        # (matrix, the fitted collaborative model's neighbour graph or None): reused by cooccurrence
        self._graph: tuple[object, NeighbourGraph | None] = (None, None)

    def reading_weights(self, pairs: SignalPairs, step: Step) -> ReadingWeights:
        """Tuned: the whole tuning runs here, on the training part of the pairs, and chooses the
        reading weights with the rest; a fixed model keeps reading.DEFAULT."""
        if self.model_name != AUTO or pairs.shape[0] < MIN_USERS_FOR_CF or pairs.nnz == 0:
            return DEFAULT
        if pairs.shape[0] >= MIN_USERS_FOR_METRICS:
            train_mask, _ = per_item_split(pairs.cols)
        else:
            train_mask = np.ones(pairs.nnz, dtype=bool)
        tuned, choice = tune(pairs.take(train_mask), self.budget_seconds)
        self._tuned = (tuned, choice, train_mask, pairs)
        weights = choice.reading or DEFAULT
        step(f"reading weights: {weights.as_dict()}")
        return weights

    def collaborative(self, matrix: sp.csr_matrix, sparse: bool = False) -> tuple[object, str]:
        """Dense B, or with `sparse` B as (sparse part, left, right): B = sparse + left @ right."""
        n_items = matrix.shape[1]
        if matrix.shape[0] < MIN_USERS_FOR_CF or matrix.nnz == 0:
            if sparse:
                return (
                    sp.csr_matrix((n_items, n_items), dtype=np.float32),
                    None,
                    None,
                ), "none (too few users)"
            return np.zeros((n_items, n_items), dtype=np.float32), "none (too few users)"
        if self.model_name != AUTO:
            name, model = make_model(self.model_name, n_items)
            model.fit(matrix)  # type: ignore[attr-defined]
            return _served(model, sparse), name
        if self._tuned is not None and self._tuned[3].shape == matrix.shape:
            tuned, choice, train_mask, pairs = self._tuned
            weights = choice.reading or DEFAULT
            if pairs.shape[0] >= MIN_USERS_FOR_METRICS:
                train, test = pairs.matrix(weights, train_mask), pairs.relevant(~train_mask)
                found, _ = ranking_metrics(tuned, train, test, K, METRIC_CELLS)
                self._metrics = {
                    **{f"collaborative_{k}": round(v, 5) for k, v in found.items()},
                    **_popularity_metrics(train, test),
                }
                family = FAMILIES[choice.family]
                params = dict(choice.params)
                if "l2" in params:
                    params["l2"] = round(
                        params["l2"] * (matrix.nnz / train.nnz) ** (1 - 2 * params["alpha"]), 3
                    )
                model = family.build(params).fit(matrix)
                self.tuning = {**choice.record(), "served_params": params}
            else:
                model = tuned
                self.tuning = choice.record()
        elif matrix.shape[0] >= MIN_USERS_FOR_METRICS:
            train, test = metrics_split(matrix)
            tuned, choice = tune(train, self.budget_seconds)
            found, _ = ranking_metrics(tuned, train, test, K, METRIC_CELLS)
            self._metrics = {
                **{f"collaborative_{k}": round(v, 5) for k, v in found.items()},
                **_popularity_metrics(train, test),
            }
            family = FAMILIES[choice.family]
            params = dict(choice.params)
            if "l2" in params:  # the held-out quarter joins: the Gram grows again
                params["l2"] = round(params["l2"] * (matrix.nnz / train.nnz) ** (1 - 2 * params["alpha"]), 3)
            model = family.build(params).fit(matrix)
            self.tuning = {**choice.record(), "served_params": params}
        else:
            model, choice = tune(matrix, self.budget_seconds)
            self.tuning = choice.record()
        self._graph = (matrix, _neighbour_graph(model))
        return _served(model, sparse), f"{choice.family} (tuned)"

    def cooccurrence(self, matrix: sp.csr_matrix, sparse: bool = False) -> object:
        """Cosine of the items' users: dense, or with `sparse` each item's COOC_NEIGHBOURS best."""
        n_items = matrix.shape[1]
        if sparse:
            seen, graph = self._graph
            if seen is matrix and graph is not None and graph.index.shape[1] >= COOC_NEIGHBOURS:
                # The collaborative model's neighbour pass on the same pairs: its best first.
                return NeighbourGraph(
                    graph.index[:, :COOC_NEIGHBOURS],
                    graph.cosine[:, :COOC_NEIGHBOURS],
                    graph.gram[:, :COOC_NEIGHBOURS],
                    graph.diagonal,
                ).as_csr()
            return top_k_similar(sp.csr_matrix(matrix > 0, dtype=np.float32), COOC_NEIGHBOURS).as_csr()
        if matrix.nnz == 0:
            return np.zeros((n_items, n_items), dtype=np.float32)
        return CooccurrenceModel(similarity="cosine").fit(matrix).dense_weights()

    def metrics(self, matrix: sp.csr_matrix, step: Step) -> dict[str, float]:
        found = self._metrics if self._metrics is not None else offline_metrics(matrix, self.model_name)
        if found:
            shown = ", ".join(f"{k}={v:.3f}" for k, v in sorted(found.items()) if "ndcg" in k)
            step(f"offline metrics: {shown}")
        else:
            step(f"offline metrics: skipped (fewer than {MIN_USERS_FOR_METRICS} users)")
        return dict(found)


def _neighbour_graph(model: object) -> NeighbourGraph | None:
    """The neighbour pass of a fitted sparse EASE (alone or in a blend), else None."""
    parts = [m for _, m in model.parts] if isinstance(model, BlendModel) else [model]
    graphs = [m.graph for m in parts if isinstance(m, SparseEaseModel) and m.graph is not None]
    return graphs[0] if graphs else None


def _served(model: object, sparse: bool) -> object:
    return model.sparse_parts() if sparse else model.dense_weights()  # type: ignore[attr-defined]


def metrics_split(matrix: sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Per-item 75/25 split of the user x item pairs (seed 42)."""
    coo = matrix.tocoo()
    train_mask, test_mask = per_item_split(coo.col)

    def part(mask: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix((coo.data[mask], (coo.row[mask], coo.col[mask])), shape=matrix.shape)

    return part(train_mask), part(test_mask)


def _popularity_metrics(train: sp.csr_matrix, test: sp.csr_matrix) -> dict[str, float]:
    model = PopularityModel().fit(train)
    found, _ = ranking_metrics(model, train, test, K, METRIC_CELLS)  # type: ignore[arg-type]
    return {f"popularity_{name}": round(value, 5) for name, value in found.items()}


def offline_metrics(matrix: sp.csr_matrix, model_name: str, k: int = K) -> dict[str, float]:
    """A fixed configuration vs popularity on the per-item 75/25 split."""
    if matrix.shape[0] < MIN_USERS_FOR_METRICS:
        return {}
    train, test = metrics_split(matrix)
    _, model = make_model(model_name, matrix.shape[1])
    result = evaluate(model, train, test, k=k)  # type: ignore[arg-type]
    return {
        **{f"collaborative_{name}": round(value, 5) for name, value in result.metrics.items()},
        **_popularity_metrics(train, test),
    }
