"""The attribute model for cold start: items described by their tags and what they belong to.

Features of an item: its own identity ("character:goku"), its universe(s), for stories their
characters, theme and moral lesson, and its tags. Identity and membership features weigh 2,
tags 1. Item-to-item similarity is the cosine of these vectors, so

- a new user who picked Goku is offered Dragon Ball, other Dragon Ball characters and
  stories with Goku before anything is learnt from behaviour;
- a new item (added after the last training) is scored against the user's picks through
  its tags and universe until the next training includes it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from reco_svc.catalog import CatalogEntry, key_of
from reco_svc.similarity import top_k_similar

IDENTITY_WEIGHT = 2.0
TAG_WEIGHT = 1.0


def features_of(entry: CatalogEntry) -> dict[str, float]:
    found: dict[str, float] = {entry.key: IDENTITY_WEIGHT}
    for universe in entry.universe_ids:
        found[key_of("universe", universe)] = IDENTITY_WEIGHT
    if entry.kind == "story":
        for character in entry.characters:
            found[key_of("character", character)] = IDENTITY_WEIGHT
        if entry.theme:
            found[key_of("theme", entry.theme)] = IDENTITY_WEIGHT
        if entry.moral_lesson:
            found[key_of("moral_lesson", entry.moral_lesson)] = IDENTITY_WEIGHT
    for tag in entry.tags:
        found.setdefault(f"tag:{tag}", TAG_WEIGHT)
    return found


def feature_matrix(entries: Sequence[CatalogEntry]) -> np.ndarray:
    """Row-normalized item x feature matrix (dense: catalogs here are thousands of items)."""
    vocabulary: dict[str, int] = {}
    rows = [features_of(e) for e in entries]
    for row in rows:
        for name in row:
            vocabulary.setdefault(name, len(vocabulary))
    matrix = np.zeros((len(entries), max(len(vocabulary), 1)), dtype=np.float32)
    for i, row in enumerate(rows):
        for name, value in row.items():
            matrix[i, vocabulary[name]] = value
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-9)


def similarity(entries: Sequence[CatalogEntry]) -> np.ndarray:
    """Item x item cosine similarity of the attribute vectors, zero diagonal."""
    features = feature_matrix(entries)
    sim = features @ features.T
    np.fill_diagonal(sim, 0.0)
    return sim.astype(np.float32)


def sparse_similarity(entries: Sequence[CatalogEntry], k: int) -> sp.csr_matrix:
    """Each item's k most similar items by the same cosine, without the items x items matrix."""
    vocabulary: dict[str, int] = {}
    rows, cols, values = [], [], []
    for i, entry in enumerate(entries):
        for name, value in features_of(entry).items():
            rows.append(vocabulary.setdefault(name, len(vocabulary)))
            cols.append(i)
            values.append(value)
    features = sp.csr_matrix((values, (rows, cols)), shape=(max(len(vocabulary), 1), len(entries)))
    return top_k_similar(features, k).as_csr()


def cosine(a: CatalogEntry, b: CatalogEntry) -> float:
    fa, fb = features_of(a), features_of(b)
    dot = sum(v * fb.get(k, 0.0) for k, v in fa.items())
    na = sum(v * v for v in fa.values()) ** 0.5
    nb = sum(v * v for v in fb.values()) ** 0.5
    return float(dot / (na * nb)) if na and nb else 0.0


class AttributeIndex:
    """Items newer than the model, ready to be scored against a user's picks in one product."""

    def __init__(self, entries: Sequence[CatalogEntry]) -> None:
        self.entries = list(entries)
        self.vocabulary: dict[str, int] = {}
        rows = [features_of(e) for e in self.entries]
        for row in rows:
            for name in row:
                self.vocabulary.setdefault(name, len(self.vocabulary))
        self.matrix = np.zeros((len(rows), max(len(self.vocabulary), 1)), dtype=np.float32)
        for i, row in enumerate(rows):
            for name, value in row.items():
                self.matrix[i, self.vocabulary[name]] = value
        self.matrix /= np.maximum(np.linalg.norm(self.matrix, axis=1, keepdims=True), 1e-9)

    def contributions(self, picks: Sequence[tuple[CatalogEntry, float]]) -> np.ndarray:
        """[n_picks, n_items]: pick value x cosine(pick, item)."""
        if not picks or not self.entries:
            return np.zeros((len(picks), len(self.entries)), dtype=np.float32)
        vectors = np.zeros((len(picks), self.matrix.shape[1]), dtype=np.float32)
        for i, (entry, value) in enumerate(picks):
            features = features_of(entry)
            norm = sum(v * v for v in features.values()) ** 0.5
            for name, weight in features.items():
                column = self.vocabulary.get(name)
                if column is not None:
                    vectors[i, column] = value * weight / norm
        return vectors @ self.matrix.T
