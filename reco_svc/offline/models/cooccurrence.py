"""Item-to-item co-occurrence: "children who picked X also picked Y", with a normalized similarity."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from reco_svc.offline.models.base import ItemItemModel, as_binary_csr

SIMILARITIES = ("cosine", "jaccard", "lift", "count")


def cooccurrence_similarity(interactions: sp.csr_matrix, similarity: str = "cosine") -> sp.csr_matrix:
    """Item x item similarity from co-occurrence counts C = X^T X (diagonal removed).

    cosine  = C_ij / sqrt(C_ii C_jj)
    jaccard = C_ij / (C_ii + C_jj - C_ij)
    lift    = C_ij / (C_ii C_jj)   (proportional to P(i,j) / (P(i) P(j)))
    count   = C_ij
    """
    if similarity not in SIMILARITIES:
        raise ValueError(f"unknown similarity {similarity!r}; choose one of {SIMILARITIES}")
    binary = as_binary_csr(interactions)
    co = (binary.T @ binary).tocoo()
    degree = np.asarray(binary.sum(axis=0), dtype=np.float64).ravel()  # C_ii for binary X
    rows, cols, counts = co.row, co.col, co.data.astype(np.float64)
    off_diagonal = rows != cols
    rows, cols, counts = rows[off_diagonal], cols[off_diagonal], counts[off_diagonal]
    if similarity == "cosine":
        values = counts / np.sqrt(degree[rows] * degree[cols])
    elif similarity == "jaccard":
        values = counts / (degree[rows] + degree[cols] - counts)
    elif similarity == "lift":
        values = counts / (degree[rows] * degree[cols])
    else:
        values = counts
    n_items = binary.shape[1]
    return sp.csr_matrix((values.astype(np.float32), (rows, cols)), shape=(n_items, n_items))


class CooccurrenceModel(ItemItemModel):
    def __init__(self, similarity: str = "cosine", neighbours: int | None = None) -> None:
        self.similarity = similarity
        self.neighbours = neighbours  # keep only the top-n similar items per item (None = all)

    def fit(self, interactions: sp.csr_matrix) -> CooccurrenceModel:
        sim = cooccurrence_similarity(interactions, self.similarity)
        if self.neighbours is not None:
            sim = keep_top_per_row(sim, self.neighbours)
        self.item_weights = sim
        return self

    def similar_items(self, item: int, k: int = 10) -> np.ndarray:
        """The k items most similar to `item` (for "also picked" rails)."""
        row = self.dense_weights()[item]
        row[item] = -np.inf
        return np.argsort(-row, kind="stable")[:k]


def keep_top_per_row(matrix: sp.csr_matrix, n: int) -> sp.csr_matrix:
    """Sparsify: keep the n largest entries of every row."""
    matrix = sp.csr_matrix(matrix)
    rows, cols, vals = [], [], []
    for i in range(matrix.shape[0]):
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        if end - start == 0:
            continue
        values = matrix.data[start:end]
        keep = np.argsort(-values, kind="stable")[:n]
        rows.append(np.full(len(keep), i))
        cols.append(matrix.indices[start:end][keep])
        vals.append(values[keep])
    if not rows:
        return sp.csr_matrix(matrix.shape, dtype=np.float32)
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=matrix.shape
    )
