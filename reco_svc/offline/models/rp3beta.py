"""RP3beta (Paudel et al. 2017): item-item random walk item -> user -> item with popularity penalty.

W_ij = (P_iu P_uj)^alpha / degree_j^beta, each row kept to its `neighbours` largest entries.
Everything stays sparse, so it is the model path for catalogs too big for EASE's dense inverse.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from reco_svc.offline.models.base import ItemItemModel, as_fit_csr
from reco_svc.offline.models.cooccurrence import keep_top_per_row


def _row_normalize(matrix: sp.csr_matrix) -> sp.csr_matrix:
    sums = np.asarray(matrix.sum(axis=1), dtype=np.float64).ravel()
    inverse = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    return sp.diags(inverse) @ matrix


class RP3BetaModel(ItemItemModel):
    def __init__(self, alpha: float = 1.0, beta: float = 0.5, neighbours: int = 200) -> None:
        self.alpha = alpha
        self.beta = beta
        self.neighbours = neighbours

    def fit(self, interactions: sp.csr_matrix) -> RP3BetaModel:
        x = as_fit_csr(interactions)
        user_to_item = _row_normalize(x)
        item_to_user = _row_normalize(sp.csr_matrix(x.T))
        walk = sp.csr_matrix(item_to_user @ user_to_item)
        walk.setdiag(0.0)
        walk.eliminate_zeros()
        if self.alpha != 1.0:
            walk.data = np.power(walk.data, self.alpha)
        degree = np.asarray(x.sum(axis=0), dtype=np.float64).ravel()
        walk = walk @ sp.diags(np.power(np.maximum(degree, 1.0), -self.beta))
        self.item_weights = keep_top_per_row(sp.csr_matrix(walk, dtype=np.float32), self.neighbours)
        return self
