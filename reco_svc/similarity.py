"""Each item's k most similar items, computed by blocks so that memory follows the pairs, not items².

    graph = top_k_similar(matrix, k)      # matrix: rows = users (or attributes), columns = items

Similarity is the cosine of the item columns; `graph.gram` keeps the raw inner products
(co-occurrence counts for a 0/1 matrix) beside it. Work is the number of item pairs that share
a row (sum over rows of nnz²), done a block of items at a time, each block sized so that its
pairs stay under BLOCK_PAIRS, THREADS blocks at once; only the k best of every item are kept.
Used by the sparse co-occurrence and attribute parts of big catalogs (model_assembly.py) and by
sparse EASE (offline/models/sparse_ease.py).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

BLOCK_PAIRS = 10_000_000
THREADS = min(2, os.cpu_count() or 1)


@dataclass(frozen=True)
class NeighbourGraph:
    """Padded neighbour lists: row i holds item i's neighbours, best first; -1 pads short rows."""

    index: np.ndarray  # int32 [n_items, k]
    cosine: np.ndarray  # float32 [n_items, k]
    gram: np.ndarray  # float32 [n_items, k]: the raw inner products
    diagonal: np.ndarray  # float64 [n_items]: each column's squared norm

    @property
    def n_items(self) -> int:
        return self.index.shape[0]

    def as_csr(self, values: np.ndarray | None = None) -> sp.csr_matrix:
        """Row i = item i's neighbours with `values` (default the cosine)."""
        values = self.cosine if values is None else values
        valid = self.index >= 0
        rows = np.repeat(np.arange(self.n_items), valid.sum(axis=1))
        n = self.n_items
        return sp.csr_matrix((values[valid], (rows, self.index[valid])), shape=(n, n), dtype=np.float32)


def top_k_similar(matrix: sp.spmatrix, k: int) -> NeighbourGraph:
    x = sp.csr_matrix(matrix, dtype=np.float32)
    n_items = x.shape[1]
    k = max(min(k, n_items - 1), 0)
    xt = sp.csr_matrix(x.T)  # items x rows
    diagonal = np.asarray(x.multiply(x).sum(axis=0), dtype=np.float64).ravel()
    norms = np.sqrt(np.maximum(diagonal, 1e-12))
    row_nnz = np.diff(x.indptr).astype(np.float64)
    cost = np.asarray(xt @ row_nnz).ravel()  # pairs each item's row of the Gram touches
    index = np.full((n_items, k), -1, dtype=np.int32)
    cosine = np.zeros((n_items, k), dtype=np.float32)
    gram = np.zeros((n_items, k), dtype=np.float32)
    if k == 0:
        return NeighbourGraph(index, cosine, gram, diagonal)
    blocks = []
    start = 0
    cumulative = np.cumsum(cost)
    while start < n_items:
        before = cumulative[start - 1] if start else 0.0
        stop = int(np.searchsorted(cumulative, before + BLOCK_PAIRS, side="right"))
        stop = min(max(stop, start + 1), n_items)
        blocks.append((start, stop))
        start = stop

    def fill(block: tuple[int, int]) -> None:
        _fill_block(xt[block[0] : block[1]] @ x, block[0], norms, index, cosine, gram, k)

    # Blocks write disjoint rows; scipy's sparse product and numpy's sorts release the GIL.
    if len(blocks) > 1 and THREADS > 1:
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(fill, blocks))
    else:
        for block in blocks:
            fill(block)
    return NeighbourGraph(index, cosine, gram, diagonal)


def _fill_block(
    block: sp.csr_matrix,
    start: int,
    norms: np.ndarray,
    index: np.ndarray,
    cosine: np.ndarray,
    gram: np.ndarray,
    k: int,
) -> None:
    block = sp.csr_matrix(block)
    block.sort_indices()
    counts = np.diff(block.indptr)
    rows = np.repeat(np.arange(block.shape[0]), counts)
    cols = block.indices
    values = block.data
    keep = (cols != rows + start) & (values > 0)
    rows, cols, values = rows[keep], cols[keep], values[keep]
    # A pair seen together once is noise where an item has k partners seen together more often:
    # dropping those first keeps the sort below small (most pairs of a sparse catalog are such).
    solid = values > 1.0
    enough = np.bincount(rows[solid], minlength=block.shape[0]) >= k
    keep = solid | ~enough[rows]
    rows, cols, values = rows[keep], cols[keep], values[keep]
    if rows.size == 0:
        return
    sim = values / (norms[rows + start] * norms[cols])
    # Best first within each row: one sort of row + (1 - cosine) (cosine is in (0, 1]); ties
    # keep the column order (stable sort over sorted indices).
    order = np.argsort(rows + (1.0 - np.minimum(sim, 1.0)) * 0.999, kind="stable")
    rows, cols, values, sim = rows[order], cols[order], values[order], sim[order]
    first = np.searchsorted(rows, np.arange(block.shape[0]))
    rank = np.arange(rows.size) - first[rows]
    top = rank < k
    target_rows = rows[top] + start
    index[target_rows, rank[top]] = cols[top]
    cosine[target_rows, rank[top]] = sim[top]
    gram[target_rows, rank[top]] = values[top]
