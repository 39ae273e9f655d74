"""Load interaction files into (user, item) index arrays and a sparse user x item matrix."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class Interactions:
    """Interaction events with dense 0-based indices; the raw ids are kept to map results back."""

    users: np.ndarray  # int64 user index per event
    items: np.ndarray  # int64 item index per event
    user_ids: np.ndarray  # raw id for each user index
    item_ids: np.ndarray  # raw id for each item index
    times: np.ndarray | None = None  # float64 timestamp per event, when every row has a 4th column
    weights: np.ndarray | None = None  # float64 weight (e.g. rating) per event, when every row has one

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def __len__(self) -> int:
        return len(self.users)


def read_interactions(path: str | Path) -> Interactions:
    """Read `user, item[, weight[, timestamp]]` rows, tab- or comma-separated, no header.

    Every row counts as one interaction, whatever its weight: the benchmark protocol treats
    every rating as an implicit positive (every held-out pair is relevant). The weights (e.g.
    ratings) and timestamps (seconds, e.g. Unix time) are kept when every row has a numeric one:
    they only weigh the training pairs for the models that use them (session_ease.py).
    """
    text = Path(path).read_text(encoding="utf-8")
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if "\t" in first else ","
    raw_users: list[str] = []
    raw_items: list[str] = []
    raw_times: list[float] | None = []
    raw_weights: list[float] | None = []
    for row in csv.reader(text.splitlines(), delimiter=delimiter):
        if not row or not row[0].strip():
            continue
        if len(row) < 2:
            raise ValueError(f"expected at least user and item columns, got {row!r}")
        raw_users.append(row[0].strip())
        raw_items.append(row[1].strip())
        if raw_weights is not None:
            try:
                raw_weights.append(float(row[2]))
            except (IndexError, ValueError):
                raw_weights = None  # a row without a weight: no weights at all
        if raw_times is not None:
            try:
                raw_times.append(float(row[3]))
            except (IndexError, ValueError):
                raw_times = None  # a row without a timestamp: no times at all
    user_ids, users = np.unique(np.asarray(raw_users), return_inverse=True)
    item_ids, items = np.unique(np.asarray(raw_items), return_inverse=True)
    times = np.asarray(raw_times, dtype=np.float64) if raw_times else None
    weights = np.asarray(raw_weights, dtype=np.float64) if raw_weights else None
    return Interactions(users.astype(np.int64), items.astype(np.int64), user_ids, item_ids, times, weights)


def to_time_csr(
    users: np.ndarray,
    items: np.ndarray,
    times: np.ndarray,
    n_users: int,
    n_items: int,
    values: np.ndarray | None = None,
) -> sp.csr_matrix:
    """float64 user x item matrix of each pair's timestamp, or of its `values` (e.g. ratings) when
    given; a repeated pair takes its latest event's."""
    latest = np.lexsort((times, items, users))[::-1]
    key = users[latest] * n_items + items[latest]
    _, first = np.unique(key, return_index=True)
    keep = latest[first]
    data = times if values is None else values
    return sp.csr_matrix(
        (data[keep].astype(np.float64), (users[keep], items[keep])),
        shape=(n_users, n_items),
        dtype=np.float64,
    )


def to_csr(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int) -> sp.csr_matrix:
    """Binary user x item matrix (duplicate events collapse to 1)."""
    data = np.ones(len(users), dtype=np.float32)
    matrix = sp.csr_matrix((data, (users, items)), shape=(n_users, n_items), dtype=np.float32)
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix
