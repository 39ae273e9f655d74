"""Sparse EASE: EASE with each item's column solved over its `neighbours` most similar items.

EASE (ease.py) solves, for every item j, the ridge regression of column j on all other items:
b_j = (G_{-j,-j} + l2 I)^-1 G_{-j,j}, which its closed form does for all j at once through one
dense inverse (O(items³) time, O(items²) memory). Here the regression of item j uses only the
set N_j of its k most cosine-similar items (reco_svc.similarity: computed by blocks from the
interactions), so

    b_j = (G'[N_j, N_j] + l2 I)^-1 G'[N_j, j]        G' = D^-a X^T X D^-a (as in EASE-norm)

and B has k entries per column. The Gram entries among the neighbours come from the same
blockwise pass (an entry neither item keeps among its neighbours counts as 0). Cost: the pairs
that share a user (the Gram), plus items × k³ for the solves, done for a batch of columns at a
time in an order that keeps neighbourhoods together (reverse Cuthill-McKee), so memory is
items × k plus one batch. In the manner of SANSA (Spišák et al., RecSys 2023) it trades the exact
inverse for a sparse one; on MovieLens-100k it reaches dense EASE's nDCG at k = 256 of 1,682
items (docs/recommendation-models.md has the measurements).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import reverse_cuthill_mckee

from reco_svc.offline.models._blas import single_threaded_blas
from reco_svc.offline.models.base import ItemItemModel, as_fit_csr
from reco_svc.similarity import THREADS, NeighbourGraph, top_k_similar

# Columns solved together: the exact path shares each batch's Gram from X among more columns;
# the kept-Gram path's batch block costs union², so it takes fewer.
BATCH_COLUMNS = 32
KNOWN_BATCH_COLUMNS = 8
# Above EXACT_PAIRS pairs (known="auto") the solves use the Gram entries kept by the neighbour
# pass, KNOWN_FACTOR x k per item, instead of each batch's Gram from X: a batch's columns of X
# hold the popular items' users, read again by every batch, which grows with the pairs.
EXACT_PAIRS = 1_000_000
KNOWN_FACTOR = 4
AUTO = "auto"


class SparseEaseModel(ItemItemModel):
    def __init__(
        self,
        l2: float = 40.0,
        item_alpha: float = 0.3,
        neighbours: int = 128,
        known: int | str | None = AUTO,
    ) -> None:
        self.l2 = l2
        self.item_alpha = item_alpha
        self.neighbours = neighbours
        # Gram entries kept per item for the solves; None: exact (each batch's Gram from X);
        # "auto": exact up to EXACT_PAIRS pairs, KNOWN_FACTOR x neighbours above.
        self.known = known
        self.graph: NeighbourGraph | None = None  # the neighbour pass (cosine, best first)

    def fit(self, interactions: sp.csr_matrix) -> SparseEaseModel:
        x = as_fit_csr(interactions)
        n_items = x.shape[1]
        known = self.known
        if known == AUTO:
            known = None if x.nnz <= EXACT_PAIRS else KNOWN_FACTOR * self.neighbours
        graph = top_k_similar(x, max(self.neighbours, known or 0))
        self.graph = graph
        k = min(self.neighbours, graph.index.shape[1])
        scale = np.power(np.maximum(graph.diagonal, 1.0), -self.item_alpha)
        kept = graph.as_csr(graph.gram)
        symmetric = sp.csr_matrix(kept.maximum(kept.T), dtype=np.float64)
        order = reverse_cuthill_mckee(symmetric, symmetric_mode=True)
        if known is None:
            by_item = sp.csc_matrix(x, dtype=np.float64)
        else:
            symmetric.setdiag(graph.diagonal)
            by_item = sp.csr_matrix(sp.diags(scale) @ symmetric @ sp.diags(scale))
        rows = np.full((n_items, k), -1, dtype=np.int64)
        values = np.zeros((n_items, k), dtype=np.float64)
        order = order[graph.index[order, 0] >= 0] if k else order[:0]  # items without neighbours: 0

        batch = BATCH_COLUMNS if known is None else KNOWN_BATCH_COLUMNS

        def solve_range(span: np.ndarray) -> None:
            position = np.full(n_items, -1, dtype=np.int64)  # scratch, one per thread
            for start in range(0, span.size, batch):
                columns = span[start : start + batch]
                rows[columns], values[columns] = self._solve(
                    by_item, scale, graph.index[columns, :k], columns, position, k, known is None
                )

        # Columns are independent: THREADS contiguous runs of the order (numpy's solves and
        # scipy's slicing release the GIL for most of their time).
        spans = np.array_split(order, THREADS if order.size > 64 * batch else 1)
        with single_threaded_blas():
            if len(spans) > 1:
                with ThreadPoolExecutor(len(spans)) as pool:
                    list(pool.map(solve_range, spans))
            else:
                solve_range(order)
        valid = rows >= 0
        cols = np.repeat(np.arange(n_items), k)[valid.ravel()]
        rows_kept = rows[valid]
        weights = values[valid] * scale[rows_kept] / scale[cols]  # back from the normalized Gram
        self.item_weights = sp.csr_matrix(
            (weights.astype(np.float32), (rows_kept, cols)), shape=(n_items, n_items)
        )
        return self

    def _solve(
        self,
        by_item: sp.csc_matrix,
        scale: np.ndarray,
        neighbours: np.ndarray,
        columns: np.ndarray,
        position: np.ndarray,
        k: int,
        exact: bool,
    ) -> tuple[np.ndarray, np.ndarray]:
        """b_j for a batch of columns: (rows, values), -1 rows where an item has fewer than k."""
        neighbours = neighbours.astype(np.int64)
        pad = neighbours < 0
        union = np.unique(np.concatenate([neighbours[~pad], columns]))
        position[union] = np.arange(union.size)
        if exact:  # the batch's Gram from the interactions
            part = by_item[:, union]
            sub = (part.T @ part).toarray()
            sub *= scale[union][:, np.newaxis]
            sub *= scale[union][np.newaxis, :]
        else:  # the kept entries, already normalized
            sub = by_item[union][:, union].toarray()
        at = np.where(pad, 0, position[np.where(pad, 0, neighbours)])
        system = sub[at[:, :, None], at[:, None, :]]
        rhs = sub[at, position[columns][:, None]]
        # Padding slots become independent unknowns with solution 0.
        system[np.broadcast_to(pad[:, :, None], system.shape)] = 0.0
        system[np.broadcast_to(pad[:, None, :], system.shape)] = 0.0
        rhs[pad] = 0.0
        diagonal = np.arange(k)
        system[:, diagonal, diagonal] += self.l2
        system[:, diagonal, diagonal] += pad  # 1 more on a padding slot's diagonal: never singular
        solution = np.linalg.solve(system, rhs[..., np.newaxis])[..., 0]
        position[union] = -1
        return np.where(pad, -1, neighbours), np.where(pad, 0.0, solution)
