"""Per-item stratified random split: the MS Recommenders MovieLens protocol as issue 5 defines it."""

from __future__ import annotations

import numpy as np

TRAIN_RATIO = 0.75


def per_item_split(
    items: np.ndarray, ratio: float = TRAIN_RATIO, seed: int = 42
) -> tuple[np.ndarray, np.ndarray]:
    """Return boolean (train, test) masks over the events.

    For each item its events are shuffled with a seeded generator; the first round(ratio * count)
    go to training and the rest to test. Python's round() is used (halves go to the even number),
    so an item with a single event always stays in training.
    """
    items = np.asarray(items)
    rng = np.random.default_rng(seed)
    # A random key per event, then a stable sort by (item, key), gives every item's events in a
    # seeded random order in O(n log n) without a Python loop over items.
    keys = rng.random(len(items))
    order = np.lexsort((keys, items))
    sorted_items = items[order]
    starts = np.flatnonzero(np.r_[True, sorted_items[1:] != sorted_items[:-1]])
    counts = np.diff(np.r_[starts, len(items)])
    n_train = np.array([round(ratio * c) for c in counts], dtype=np.int64)
    rank_in_item = np.arange(len(items)) - np.repeat(starts, counts)
    train_sorted = rank_in_item < np.repeat(n_train, counts)
    train = np.empty(len(items), dtype=bool)
    train[order] = train_sorted
    return train, ~train
