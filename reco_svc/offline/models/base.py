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

    def dense_weights(self) -> np.ndarray:
        """The item x item matrix B as float32, for export."""
        if self.item_weights is None:
            raise RuntimeError("call fit() before dense_weights()")
        weights = self.item_weights
        return np.asarray(weights.toarray() if sp.issparse(weights) else weights, dtype=np.float32)
