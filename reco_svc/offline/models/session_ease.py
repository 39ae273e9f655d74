"""Session EASE: EASE on a Gram where two picks of one user count more the closer in time they were.

People pick in sessions: two items picked minutes apart by one user say more about each other
than two picked months apart. EASE (ease.py) regresses every item on the others through the Gram
G = X^T X, G_ij = sum over users of [u picked i] [u picked j]; here each such pair is weighted by
how close in time the two picks were,

    G_ij = sum_u  floor + (1 - floor) * exp(-|t_ui - t_uj| / tau)

so floor = 1 is plain EASE (X^T X), floor = 0 keeps only pairs picked about tau seconds apart or
closer. The diagonal is unchanged (every pick is at distance 0 from itself): G_ii = degree_i.
Everything else is EASE's, with its degree normalization (item_alpha).

With `ratings` (e.g. 1-5 stars) and `rating` = c > 0, each pick also has a strength
w_ui = max(1 + c (r_ui - mid), MIN_STRENGTH), mid the middle of the ratings' range, and the pair
counts w_ui w_uj times its time weight (a liked pair says more than a disliked one). Only the
fit uses it: the input of scoring stays the binary row.

Only fitting uses the times and ratings: the model stays B (items x items) applied to a user's
binary row, so it is served like EASE (`dense_weights()`), and scoring needs neither. Without
times (`fit(x)` or `times=None`) it is EASE on the (rating-weighted) X^T X.

`times`, `ratings`: float64 sparse matrices shaped like the interactions whose stored entries
hold the pairs' timestamps in seconds and ratings (every pair of the interactions should have
one; a pair without a time takes part in X^T X only, one without a rating has strength 1).

Cost: the pairs of one user's picks within WINDOW_TAUS x tau of each other, found on the picks
sorted by (user, time) one offset at a time, on top of EASE's dense inverse.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from reco_svc.offline.models.ease import EaseModel

# Pairs further apart than this many tau add exp(-20) < 3e-9 of a pair: left out.
WINDOW_TAUS = 20.0
# Pairs gathered before they are added into the dense Gram (bounded memory).
FLUSH_PAIRS = 4_000_000
MIN_STRENGTH = 0.05


def time_kernel_gram(
    users: np.ndarray,
    items: np.ndarray,
    times: np.ndarray,
    n_items: int,
    tau: float,
    strengths: np.ndarray | None = None,
) -> np.ndarray:
    """K_ij = sum_u sum of w_ui w_uj exp(-|t_ui - t_uj| / tau) over u's picks of i and j (dense,
    float64; w = `strengths`, 1 when None).

    Its diagonal holds every pick once (distance 0): the sum of the item's squared strengths."""
    order = np.lexsort((times, users))
    users, items, times = users[order], items[order], times[order].astype(np.float64)
    w = np.ones(len(users)) if strengths is None else np.asarray(strengths, dtype=np.float64)[order]
    flat = np.zeros(n_items * n_items, dtype=np.float64)
    flat += np.bincount(items * (n_items + 1), weights=w * w, minlength=n_items * n_items)
    window = WINDOW_TAUS * tau
    active = np.arange(len(users) - 1)
    pending: list[tuple[np.ndarray, np.ndarray]] = []
    held = 0
    offset = 1
    while active.size:
        later = active + offset
        # Sorted by (user, time): once a pick's next pick at this offset is another user's or
        # out of the window, so are all further ones; such picks leave the active set.
        gap = times[later] - times[active]
        keep = (users[later] == users[active]) & (gap <= window)
        active, later, gap = active[keep], later[keep], gap[keep]
        weight = np.exp(-gap / tau) * w[active] * w[later]
        first, second = items[active], items[later]
        pending.append(
            (np.concatenate([first * n_items + second, second * n_items + first]), np.tile(weight, 2))
        )
        held += 2 * active.size
        if held >= FLUSH_PAIRS:
            _flush(flat, pending)
            held = 0
        offset += 1
        active = active[active + offset < len(users)]
    _flush(flat, pending)
    return flat.reshape(n_items, n_items)


def _flush(flat: np.ndarray, pending: list[tuple[np.ndarray, np.ndarray]]) -> None:
    if pending:
        index = np.concatenate([p[0] for p in pending])
        weight = np.concatenate([p[1] for p in pending])
        flat += np.bincount(index, weights=weight, minlength=flat.size)
        pending.clear()


class SessionEaseModel(EaseModel):
    uses_times = True  # tuning.py and BlendModel pass `times` to fit()

    def __init__(
        self,
        l2: float = 20.0,
        item_alpha: float = 0.3,
        tau: float = 200.0,
        floor: float = 0.25,
        rating: float = 0.0,
    ) -> None:
        if not 0.0 <= floor <= 1.0:
            raise ValueError("floor must be in [0, 1]")
        if tau <= 0:
            raise ValueError("tau must be > 0 seconds")
        super().__init__(l2=l2, item_alpha=item_alpha)
        self.tau = tau
        self.floor = floor
        self.rating = rating
        self._times: sp.csr_matrix | None = None
        self._ratings: sp.csr_matrix | None = None

    def fit(
        self,
        interactions: sp.csr_matrix,
        times: sp.spmatrix | None = None,
        ratings: sp.spmatrix | None = None,
    ) -> SessionEaseModel:
        self._times = None if times is None else sp.csr_matrix(times, dtype=np.float64)
        self._ratings = None if ratings is None else sp.csr_matrix(ratings, dtype=np.float64)
        try:
            super().fit(interactions)
        finally:
            self._times = self._ratings = None
        return self

    def strengths(self, x: sp.csr_matrix) -> sp.csr_matrix:
        """x (binary) with each pick's strength in place of its 1."""
        strength = x.astype(np.float64)
        if self._ratings is None or not self.rating or self._ratings.nnz == 0:
            return strength
        rows, cols = strength.nonzero()
        found = sp.csr_matrix(self._ratings[rows, cols])
        if found.nnz == 0:
            return strength
        mid = (self._ratings.data.min() + self._ratings.data.max()) / 2.0
        value = np.full(len(rows), mid)
        value[found.indices] = found.data  # a pick without a rating: strength 1
        by_pick = np.maximum(1.0 + self.rating * (value - mid), MIN_STRENGTH)
        return sp.csr_matrix((by_pick, (rows, cols)), shape=x.shape)

    def _gram(self, x: sp.csr_matrix) -> np.ndarray:
        strength = self.strengths(x)
        gram = np.asarray((strength.T @ strength).toarray(), dtype=np.float64)
        if self._times is None or self.floor == 1.0:
            return gram
        coo = self._times.tocoo()
        rows, cols = coo.row.astype(np.int64), coo.col.astype(np.int64)
        weights = np.asarray(strength[rows, cols], dtype=np.float64).ravel()
        kernel = time_kernel_gram(rows, cols, coo.data, x.shape[1], self.tau, weights)
        return self.floor * gram + (1.0 - self.floor) * kernel
