"""Assemble a servable model from its parts (pure: no database, no files).

    artifact = build_artifact(entries, interactions, age_groups, devices, now, version="v1")

W's item block sums components, each scaled to a comparable range first:
  1.0 × collaborative (learned offline: reco_svc.offline.learned_parts, EASE family by default)
  0.5 × co-occurrence cosine ("children who picked Goku also picked Woody"; learned offline too)
  0.3 × attribute cosine (tags, universe: cold start for new users and sparse items)
Context rows: popularity and trending per age group (trending.py), popularity per device.

Training passes a `Learner` (reco_svc.offline.learned_parts) for the collaborative and
co-occurrence parts and the offline metrics; the bootstrap model the engine builds in memory
before any training (model_watch.py) passes none: attributes and context rows only.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from reco_svc import attributes
from reco_svc.age_rules import AGE_GROUPS
from reco_svc.artifact import DEFAULT_INPUT_WEIGHTS, ModelArtifact
from reco_svc.catalog import CatalogEntry
from reco_svc.interactions import Interaction, compress, decay
from reco_svc.trending import TrendCounter

CF_WEIGHT, COOC_WEIGHT, ATTR_WEIGHT = 1.0, 0.5, 0.3
# Stories beyond the most interacted-with are served through attributes (serving.py); the cap bounds
# the dense W (and so the per-request MatMul) to about 600 x 600 with the demo catalog.
MAX_MODEL_STORIES = 500
DEVICES = ("tablet", "phone", "desktop", "tv", "other")

Step = Callable[[str], None]


def _noop(_: str) -> None:
    return None


class Learner(Protocol):
    """The learned parts of a model (reco_svc.offline.learned_parts.Learned)."""

    def collaborative(self, matrix: sp.csr_matrix) -> tuple[np.ndarray, str]:
        """The collaborative item x item weights and the model's name."""
        ...

    def cooccurrence(self, matrix: sp.csr_matrix) -> np.ndarray: ...

    def metrics(self, matrix: sp.csr_matrix, step: Step) -> dict[str, float]:
        """Offline evaluation figures for the registry ({} when there is too little data)."""
        ...


def context_names() -> list[str]:
    return [
        *(f"pop:{g}" for g in AGE_GROUPS),
        *(f"trend:{g}" for g in AGE_GROUPS),
        *(f"device:{d}" for d in DEVICES),
    ]


def select_items(entries: Sequence[CatalogEntry], story_weight: dict[str, float]) -> list[CatalogEntry]:
    """Every universe, character, theme and moral lesson, plus the most interacted-with stories."""
    chosen = sorted((e for e in entries if e.kind != "story"), key=lambda e: e.key)
    stories = [e for e in entries if e.kind == "story"]
    stories.sort(key=lambda e: (-story_weight.get(e.key, 0.0), e.key))
    return chosen + stories[:MAX_MODEL_STORIES]


def _scale_of(matrix: np.ndarray) -> float:
    """The mean of the rows' largest entries (0 for an empty or non-positive matrix)."""
    row_max = matrix.max(axis=1) if matrix.size else np.zeros(0)
    positive = row_max[row_max > 0]
    return float(positive.mean()) if positive.size else 0.0


def _scaled(matrix: np.ndarray) -> np.ndarray:
    """Divide by the mean of the rows' largest entries, so a strong link is about 1; clip outliers."""
    scale = _scale_of(matrix)
    if scale == 0.0:
        return np.zeros_like(matrix)
    return np.clip(matrix / scale, -1.0, 2.0).astype(np.float32)


def user_item_matrix(
    interactions: Iterable[Interaction], index: dict[str, int], now: datetime
) -> tuple[sp.csr_matrix, list[str]]:
    totals: dict[tuple[str, int], float] = defaultdict(float)
    for i in interactions:
        j = index.get(i.key)
        if j is not None:
            totals[(i.user_id, j)] += decay(i.weight, i.ts, now)
    users = sorted({u for u, _ in totals})
    user_index = {u: n for n, u in enumerate(users)}
    rows = np.fromiter((user_index[u] for u, _ in totals), dtype=np.int64, count=len(totals))
    cols = np.fromiter((j for _, j in totals), dtype=np.int64, count=len(totals))
    vals = np.fromiter((compress(v) for v in totals.values()), dtype=np.float32, count=len(totals))
    matrix = sp.csr_matrix((vals, (rows, cols)), shape=(len(users), len(index)), dtype=np.float32)
    return matrix, users


def build_artifact(
    entries: Sequence[CatalogEntry],
    interactions: Sequence[Interaction],
    age_groups: dict[str, str],
    devices: dict[str, str],
    now: datetime,
    version: str,
    learner: Learner | None = None,
    step: Step = _noop,
) -> ModelArtifact:
    """`learner=None`: no collaborative or co-occurrence part and no metrics (the bootstrap model
    built while nothing is trained yet: attributes plus the age groups' popularity and trending)."""
    started = time.perf_counter()
    story_weight: dict[str, float] = defaultdict(float)
    for i in interactions:
        if i.key.startswith("story:"):
            story_weight[i.key] += decay(i.weight, i.ts, now)
    items = select_items(entries, story_weight)
    index = {e.key: n for n, e in enumerate(items)}
    n_items = len(items)
    step(f"{n_items} items in the model ({sum(e.kind == 'story' for e in items)} stories)")

    matrix, users = user_item_matrix(interactions, index, now)
    step(f"user x item matrix: {matrix.shape[0]} users, {matrix.nnz} non-zero")

    if learner is not None:
        cf, cf_name = learner.collaborative(matrix)
        cooc = learner.cooccurrence(matrix)
    else:
        cf = cooc = np.zeros((n_items, n_items), dtype=np.float32)
        cf_name = "none (bootstrap)"
    step(f"collaborative model: {cf_name}")
    step("co-occurrence model: cosine" if learner else "co-occurrence model: none (bootstrap)")
    attr = attributes.similarity(items)
    step("attribute model: tags and universes")

    contexts = context_names()
    n = n_items + len(contexts)
    weights = np.zeros((n, n), dtype=np.float32)
    cooc_part = COOC_WEIGHT * _scaled(cooc)
    weights[:n_items, :n_items] = CF_WEIGHT * _scaled(cf) + cooc_part + ATTR_WEIGHT * _scaled(attr)

    trends = TrendCounter(now)
    by_device: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for i in interactions:
        if i.key in index:
            trends.add(i, age_groups.get(i.user_id, ""))
            device = devices.get(i.user_id)
            if device:
                by_device[device][i.key] += decay(i.weight, i.ts, now)
    row_of = {name: n_items + k for k, name in enumerate(contexts)}
    for group in AGE_GROUPS:
        for key, value in trends.popularity(group).items():
            weights[row_of[f"pop:{group}"], index[key]] = value
        for key, value in trends.trending(group).items():
            weights[row_of[f"trend:{group}"], index[key]] = value
    for device, counts in by_device.items():
        if f"device:{device}" in row_of:
            top = max(counts.values(), default=0.0) or 1.0
            for key, value in counts.items():
                weights[row_of[f"device:{device}"], index[key]] = value / top
    step("popularity and trending per age group, popularity per device")

    if learner is not None:
        metrics = learner.metrics(matrix, step)
    else:
        metrics = {}
        step("offline metrics: none (bootstrap)")
    metrics.update({"users": float(len(users)), "items": float(n_items), "interactions": float(matrix.nnz)})
    metrics["train_seconds"] = round(time.perf_counter() - started, 3)
    return ModelArtifact(
        version=version,
        items=[e.key for e in items],
        contexts=contexts,
        weights=weights,
        cooc=cooc_part.astype(np.float32),
        input_weights={**DEFAULT_INPUT_WEIGHTS, "attr": ATTR_WEIGHT / (_scale_of(attr) or 1.0)},
        metrics=metrics,
        description=f"{cf_name} + cooccurrence + attributes; {len(users)} users, {n_items} items",
        created_at=datetime.now(UTC).isoformat(),
    )
