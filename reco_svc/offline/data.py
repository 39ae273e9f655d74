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

    Every row counts as one interaction (the weight column is ignored on purpose: the benchmark
    protocol treats every rating as an implicit positive).
    """
    text = Path(path).read_text(encoding="utf-8")
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if "\t" in first else ","
    raw_users: list[str] = []
    raw_items: list[str] = []
    for row in csv.reader(text.splitlines(), delimiter=delimiter):
        if not row or not row[0].strip():
            continue
        if len(row) < 2:
            raise ValueError(f"expected at least user and item columns, got {row!r}")
        raw_users.append(row[0].strip())
        raw_items.append(row[1].strip())
    user_ids, users = np.unique(np.asarray(raw_users), return_inverse=True)
    item_ids, items = np.unique(np.asarray(raw_items), return_inverse=True)
    return Interactions(users.astype(np.int64), items.astype(np.int64), user_ids, item_ids)


def to_csr(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int) -> sp.csr_matrix:
    """Binary user x item matrix (duplicate events collapse to 1)."""
    data = np.ones(len(users), dtype=np.float32)
    matrix = sp.csr_matrix((data, (users, items)), shape=(n_users, n_items), dtype=np.float32)
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix
