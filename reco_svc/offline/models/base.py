"""Shared shape of the models: fit on a user x item CSR matrix, score rows of such a matrix."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def as_csr(matrix: sp.spmatrix | np.ndarray) -> sp.csr_matrix:
    return sp.csr_matrix(matrix, dtype=np.float32)


def as_binary_csr(matrix: sp.spmatrix | np.ndarray) -> sp.csr_matrix:
    """A float32 0/1 copy: models treat any stored value as one implicit interaction.

    Always a copy, so fitting never rewrites the caller's matrix.
    """
    binary = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    binary.eliminate_zeros()
    binary.data[:] = 1.0
    return binary


def as_fit_csr(matrix: sp.spmatrix | np.ndarray) -> sp.csr_matrix:
    """What a model fits on: a float32 copy of a weighted matrix with its values over their mean,
    or the binary copy when every stored value is the same (a plain implicit matrix fits exactly
    as before). Over the mean, a weighted Gram keeps the scale a binary one has (the same l2 fits
    both), while the weights still count: a story read again weighs more than one opened and left
    (signal_matrix keeps such a pair only at reading.FLOOR, so it adds almost nothing)."""
    found = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    found.eliminate_zeros()
    if found.nnz == 0 or found.data.min() == found.data.max():
        found.data[:] = 1.0
        return found
    if found.data.min() < 0:
        raise ValueError("interaction weights must not be negative")
    found.data /= found.data.mean(dtype=np.float64)
    return found


class ItemItemModel:
    """A model whose scores are `user_rows @ item_weights` (item x item, dense or sparse).

    Keeping every collaborative model in this form means one ONNX graph (x @ B, mask, TopK)
    serves all of them.
    """

    item_weights: np.ndarray | sp.csr_matrix | None = None

    def fit(self, interactions: sp.csr_matrix) -> ItemItemModel:
        raise NotImplementedError

    def score(self, user_rows: sp.csr_matrix | np.ndarray) -> np.ndarray:
        if self.item_weights is None:
            raise RuntimeError("call fit() before score()")
        scores = as_csr(user_rows) @ self.item_weights
        return np.asarray(scores.todense() if sp.issparse(scores) else scores, dtype=np.float32)

    def sparse_parts(self) -> tuple[sp.csr_matrix | None, np.ndarray | None, np.ndarray | None]:
        """B as (sparse part, left, right) with B = sparse + left @ right, for a sparse graph."""
        if self.item_weights is None:
            raise RuntimeError("call fit() before sparse_parts()")
        return sp.csr_matrix(self.item_weights, dtype=np.float32), None, None

    def dense_weights(self) -> np.ndarray:
        """The item x item matrix B as float32, for export."""
        if self.item_weights is None:
            raise RuntimeError("call fit() before dense_weights()")
        weights = self.item_weights
        return np.asarray(weights.toarray() if sp.issparse(weights) else weights, dtype=np.float32)
