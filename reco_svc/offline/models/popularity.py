"""Most-popular baseline: every user gets the items with the most interactions."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from reco_svc.offline.models.base import as_binary_csr


class PopularityModel:
    def __init__(self) -> None:
        self.item_counts: np.ndarray | None = None

    def fit(self, interactions: sp.csr_matrix) -> PopularityModel:
        self.item_counts = np.asarray(as_binary_csr(interactions).sum(axis=0), dtype=np.float32).ravel()
        return self

    def score(self, user_rows: sp.csr_matrix | np.ndarray) -> np.ndarray:
        if self.item_counts is None:
            raise RuntimeError("call fit() before score()")
        n_rows = user_rows.shape[0]
        return np.broadcast_to(self.item_counts, (n_rows, len(self.item_counts))).copy()
