"""Ideal low-pass graph filter (the low-rank part of GF-CF, Shen et al. 2021).

Normalize the interactions R~ = D_U^-1/2 X D_I^-b, take its top-k right singular vectors V_k
and score with B = D_I^-b V_k V_k^T D_I^b. Only the k smoothest "taste directions" survive, which
complements EASE's sharp item-to-item weights; blended with EASE it is what the default model uses.

The truncated SVD is sparse (ARPACK), so fitting scales to large catalogs; B is kept factored
(n_items x k twice) and only materialized by `dense_weights()`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla

from reco_svc.offline.models._blas import single_threaded_blas
from reco_svc.offline.models.base import ItemItemModel, as_csr, as_fit_csr


class LowPassModel(ItemItemModel):
    def __init__(self, rank: int = 16, item_exponent: float = 0.3, seed: int = 0) -> None:
        self.rank = rank
        self.item_exponent = item_exponent
        self.seed = seed
        self.left: np.ndarray | None = None  # n_items x k: D^-b V
        self.right: np.ndarray | None = None  # k x n_items: V^T D^b

    def fit(self, interactions: sp.csr_matrix) -> LowPassModel:
        x = as_fit_csr(interactions).astype(np.float64)
        user_degree = np.maximum(np.asarray(x.sum(axis=1)).ravel(), 1.0)
        item_degree = np.maximum(np.asarray(x.sum(axis=0)).ravel(), 1.0)
        normalized = sp.diags(user_degree**-0.5) @ x @ sp.diags(item_degree**-self.item_exponent)
        rank = min(self.rank, min(x.shape) - 1)  # ARPACK needs rank < min(shape)
        if rank < 1:  # a single user or item: nothing to smooth, score everything 0
            self.left = np.zeros((x.shape[1], 0), dtype=np.float32)
            self.right = np.zeros((0, x.shape[1]), dtype=np.float32)
            return self
        rng = np.random.default_rng(self.seed)
        start = rng.random(min(normalized.shape))  # fixed ARPACK start vector: deterministic fits
        with single_threaded_blas():
            _, _, vt = sla.svds(normalized, k=rank, v0=start, solver="arpack")
        self.left = (item_degree[:, np.newaxis] ** -self.item_exponent * vt.T).astype(np.float32)
        self.right = (vt * item_degree[np.newaxis, :] ** self.item_exponent).astype(np.float32)
        self.item_weights = None
        return self

    def score(self, user_rows: sp.csr_matrix | np.ndarray) -> np.ndarray:
        if self.left is None or self.right is None:
            raise RuntimeError("call fit() before score()")
        return np.asarray((as_csr(user_rows) @ self.left) @ self.right, dtype=np.float32)

    def sparse_parts(self) -> tuple[None, np.ndarray, np.ndarray]:
        if self.left is None or self.right is None:
            raise RuntimeError("call fit() before sparse_parts()")
        return None, self.left, self.right

    def dense_weights(self) -> np.ndarray:
        if self.left is None or self.right is None:
            raise RuntimeError("call fit() before dense_weights()")
        return self.left @ self.right
