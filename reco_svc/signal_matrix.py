"""The user x item matrix kept per signal, so that training can try reading weights on it.

    pairs = signal_pairs(interactions, index, now)      # every (user, item) with an interaction
    matrix = pairs.matrix(weights)                       # what the models learn from
    pairs.relevant()                                     # the pairs that show taste (targets)

Each pair holds `base` (the decayed weights of picks, creations, shares, clicks and ratings: fixed)
and the decayed amount of each reading signal (reading.SIGNALS, re-reads derived per user). The
matrix value is log1p(base + sum of weight x amount), at least reading.FLOOR: every pair stays in
the matrix whatever the weights (so a split of the pairs does not depend on them, and a story
abandoned early is still not recommended back to the child who left it).

A pair is relevant (a target of validation and of the offline metrics) when it shows taste
whatever the weights: a pick, a creation, a share, a click, a rating of 3 or more, a completion or
a re-read. A story only viewed or abandoned is not, so weights cannot make targets of their own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import scipy.sparse as sp

from reco_svc.interactions import Interaction, decay
from reco_svc.reading import FLOOR, SIGNALS, ReadingWeights, by_user, with_rereads

TASTE = ("complete", "reread")


@dataclass(frozen=True)
class SignalPairs:
    rows: np.ndarray  # int64, sorted by (row, col)
    cols: np.ndarray
    base: np.ndarray  # float64 per pair
    amounts: np.ndarray  # float64, pairs x len(SIGNALS)
    shape: tuple[int, int]
    # float64 seconds per pair (when the pairs were picked), or None: no timestamps.
    times: np.ndarray | None = None
    # float64 rating per pair (e.g. stars: session_ease.py weighs pairs by them), or None.
    ratings: np.ndarray | None = None

    @property
    def nnz(self) -> int:
        return len(self.rows)

    def values(self, weights: ReadingWeights) -> np.ndarray:
        w = np.array([weights.of(s) for s in SIGNALS], dtype=np.float64)
        total = self.base + self.amounts @ w
        return np.maximum(np.log1p(np.maximum(total, 0.0)), FLOOR).astype(np.float32)

    def matrix(self, weights: ReadingWeights, mask: np.ndarray | None = None) -> sp.csr_matrix:
        return self._csr(self.values(weights), mask)

    def relevant(self, mask: np.ndarray | None = None) -> sp.csr_matrix:
        """Binary: the pairs (within mask) that show taste whatever the weights."""
        taste = (self.base > 0) | (self.amounts[:, [SIGNALS.index(s) for s in TASTE]] > 0).any(axis=1)
        keep = taste if mask is None else taste & mask
        return self._csr(np.ones(self.nnz, dtype=np.float32), keep)

    def has_reading(self) -> bool:
        return bool(self.amounts.any())

    def take(self, mask: np.ndarray) -> SignalPairs:
        return SignalPairs(
            self.rows[mask],
            self.cols[mask],
            self.base[mask],
            self.amounts[mask],
            self.shape,
            None if self.times is None else self.times[mask],
            None if self.ratings is None else self.ratings[mask],
        )

    def take_rows(self, users: np.ndarray) -> SignalPairs:
        """The pairs of these users (sorted row indices), renumbered 0..len(users)-1."""
        where = np.full(self.shape[0], -1, dtype=np.int64)
        where[users] = np.arange(len(users))
        keep = where[self.rows] >= 0
        return SignalPairs(
            where[self.rows[keep]],
            self.cols[keep],
            self.base[keep],
            self.amounts[keep],
            (len(users), self.shape[1]),
            None if self.times is None else self.times[keep],
            None if self.ratings is None else self.ratings[keep],
        )

    def time_matrix(self, mask: np.ndarray | None = None) -> sp.csr_matrix | None:
        """float64: each pair's timestamp (within mask), or None without timestamps."""
        return self._float_csr(self.times, mask)

    def rating_matrix(self, mask: np.ndarray | None = None) -> sp.csr_matrix | None:
        """float64: each pair's rating (within mask), or None without ratings."""
        return self._float_csr(self.ratings, mask)

    def _float_csr(self, values: np.ndarray | None, mask: np.ndarray | None) -> sp.csr_matrix | None:
        if values is None:
            return None
        keep = np.ones(self.nnz, dtype=bool) if mask is None else mask
        return sp.csr_matrix(
            (values[keep], (self.rows[keep], self.cols[keep])), shape=self.shape, dtype=np.float64
        )

    def _csr(self, values: np.ndarray, mask: np.ndarray | None) -> sp.csr_matrix:
        if mask is not None:
            rows, cols, values = self.rows[mask], self.cols[mask], values[mask]
        else:
            rows, cols = self.rows, self.cols
        return sp.csr_matrix((values, (rows, cols)), shape=self.shape, dtype=np.float32)

    @classmethod
    def from_matrix(
        cls,
        matrix: sp.csr_matrix,
        times: sp.spmatrix | None = None,
        ratings: sp.spmatrix | None = None,
    ) -> SignalPairs:
        """A plain matrix as pairs without reading signals (its values taken as log1p(base)).

        `times`, `ratings`: matrices of the same shape holding each pair's timestamp (seconds)
        and rating."""
        coo = sp.csr_matrix(matrix).tocoo()
        order = np.lexsort((coo.col, coo.row))
        rows, cols = coo.row[order].astype(np.int64), coo.col[order].astype(np.int64)

        def per_pair(values: sp.spmatrix | None, name: str) -> np.ndarray | None:
            if values is None:
                return None
            found = sp.csr_matrix(values, dtype=np.float64)
            if found.shape != matrix.shape:
                raise ValueError(f"{name} shaped {found.shape}, the matrix {matrix.shape}")
            return np.asarray(found[rows, cols], dtype=np.float64).ravel()

        return cls(
            rows,
            cols,
            np.expm1(coo.data[order].astype(np.float64)),
            np.zeros((len(order), len(SIGNALS))),
            matrix.shape,
            per_pair(times, "times"),
            per_pair(ratings, "ratings"),
        )


def signal_pairs(
    interactions: Iterable[Interaction], index: dict[str, int], now: datetime
) -> tuple[SignalPairs, list[str]]:
    """Every (user, item of `index`) with an interaction, its base and reading amounts (decayed)."""
    base: dict[tuple[str, int], float] = defaultdict(float)
    amounts: dict[tuple[str, int], np.ndarray] = {}
    for user, own in by_user(interactions).items():
        for i in with_rereads(own):
            j = index.get(i.key)
            if j is None:
                continue
            pair = (user, j)
            base[pair] += 0.0
            value = decay(i.weight, i.ts, now)
            if i.signal:
                found = amounts.get(pair)
                if found is None:
                    found = amounts[pair] = np.zeros(len(SIGNALS))
                found[SIGNALS.index(i.signal)] += value
            else:
                base[pair] += value
    users = sorted({u for u, _ in base})
    user_index = {u: n for n, u in enumerate(users)}
    keys = sorted(base, key=lambda p: (user_index[p[0]], p[1]))
    zero = np.zeros(len(SIGNALS))
    return (
        SignalPairs(
            np.fromiter((user_index[u] for u, _ in keys), dtype=np.int64, count=len(keys)),
            np.fromiter((j for _, j in keys), dtype=np.int64, count=len(keys)),
            np.fromiter((base[p] for p in keys), dtype=np.float64, count=len(keys)),
            np.array([amounts.get(p, zero) for p in keys]).reshape(len(keys), len(SIGNALS)),
            (len(users), len(index)),
        ),
        users,
    )
