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
from reco_svc.interactions import Interaction, decay
from reco_svc.onnx_graph import padded_rows
from reco_svc.reading import DEFAULT, ReadingWeights, weight_of
from reco_svc.signal_matrix import SignalPairs, signal_pairs
from reco_svc.trending import TrendCounter

CF_WEIGHT, COOC_WEIGHT, ATTR_WEIGHT = 1.0, 0.5, 0.3
# Up to DENSE_ITEMS items W is a dense matrix (one MatMul per request); above, W is sparse: each
# input keeps its ROW_WIDTH strongest links (co-occurrence and attributes their NEIGHBOURS best),
# the low-rank part of the collaborative model stays factored, and the graph is
# onnx_graph.build_sparse_topk_graph. Stories beyond MAX_MODEL_STORIES (the most interacted-with
# first) are served through attributes (serving.py).
DENSE_ITEMS = 2000
MAX_MODEL_STORIES = 200_000
MIN_MODEL_STORIES = 500
ROW_WIDTH = 128
NEIGHBOURS = 50
SCALE_SAMPLE_ROWS = 1000
DEVICES = ("tablet", "phone", "desktop", "tv", "other")

Step = Callable[[str], None]


def _noop(_: str) -> None:
    return None


class Learner(Protocol):
    """The learned parts of a model (reco_svc.offline.learned_parts.Learned)."""

    tuning: dict[str, object]  # what was chosen and why, once collaborative() ran

    def collaborative(self, matrix: sp.csr_matrix, sparse: bool) -> tuple[object, str]:
        """The collaborative item x item weights (dense, or with `sparse` (part, left, right))
        and the model's name."""
        ...

    def cooccurrence(self, matrix: sp.csr_matrix, sparse: bool) -> object: ...

    def reading_weights(self, pairs: SignalPairs, step: Step) -> ReadingWeights:
        """The weights of the reading signals (reading.py), chosen on the pairs; called first."""
        ...

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
    """Every universe, character, theme and moral lesson, plus the stories: those interacted with
    (most first, up to MAX_MODEL_STORIES), filled up to MIN_MODEL_STORIES with others."""
    chosen = sorted((e for e in entries if e.kind != "story"), key=lambda e: e.key)
    stories = [e for e in entries if e.kind == "story"]
    stories.sort(key=lambda e: (-story_weight.get(e.key, 0.0), e.key))
    used = sum(1 for e in stories if story_weight.get(e.key, 0.0) > 0)
    return chosen + stories[: min(max(used, MIN_MODEL_STORIES), MAX_MODEL_STORIES)]


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
    interactions: Iterable[Interaction],
    index: dict[str, int],
    now: datetime,
    weights: ReadingWeights = DEFAULT,
) -> tuple[sp.csr_matrix, list[str]]:
    """log1p of each (user, item)'s decayed weights, reading signals weighted by `weights`."""
    pairs, users = signal_pairs(interactions, index, now)
    return pairs.matrix(weights), users


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
            story_weight[i.key] += decay(weight_of(i, DEFAULT), i.ts, now)
    items = select_items(entries, story_weight)
    index = {e.key: n for n, e in enumerate(items)}
    n_items = len(items)
    step(f"{n_items} items in the model ({sum(e.kind == 'story' for e in items)} stories)")

    pairs, users = signal_pairs(interactions, index, now)
    reading = learner.reading_weights(pairs, step) if learner is not None else DEFAULT
    matrix = pairs.matrix(reading)
    step(f"user x item matrix: {matrix.shape[0]} users, {matrix.nnz} non-zero")

    context_rows = context_rows_of(interactions, index, age_groups, devices, now)
    artifact = assemble(items, matrix, context_rows, version, learner, step, started)
    artifact.input_weights.update(reading.inputs())
    return artifact


def context_rows_of(
    interactions: Sequence[Interaction],
    index: dict[str, int],
    age_groups: dict[str, str],
    devices: dict[str, str],
    now: datetime,
) -> dict[str, dict[int, float]]:
    """Popularity and trending per age group, popularity per device: row name -> {item: value}."""
    trends = TrendCounter(now)
    by_device: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for i in interactions:
        if i.key in index:
            trends.add(i, age_groups.get(i.user_id, ""))
            device = devices.get(i.user_id)
            if device:
                by_device[device][i.key] += decay(weight_of(i, DEFAULT), i.ts, now)
    rows: dict[str, dict[int, float]] = {}
    for group in AGE_GROUPS:
        rows[f"pop:{group}"] = {index[key]: value for key, value in trends.popularity(group).items()}
        rows[f"trend:{group}"] = {index[key]: value for key, value in trends.trending(group).items()}
    for device, counts in by_device.items():
        if device in DEVICES:
            top = max(counts.values(), default=0.0) or 1.0
            rows[f"device:{device}"] = {index[key]: value / top for key, value in counts.items()}
    return rows


def assemble(
    items: Sequence[CatalogEntry],
    matrix: sp.csr_matrix,
    context_rows: dict[str, dict[int, float]],
    version: str,
    learner: Learner | None = None,
    step: Step = _noop,
    started: float | None = None,
    dense_items: int = DENSE_ITEMS,
) -> ModelArtifact:
    """W from the user x item matrix (rows: users, columns: `items`) and the context rows; sparse
    above `dense_items` items."""
    started = time.perf_counter() if started is None else started
    n_items = len(items)
    sparse = n_items > dense_items
    if learner is not None:
        cf, cf_name = learner.collaborative(matrix, sparse)
        cooc = learner.cooccurrence(matrix, sparse)
    else:
        cf_name = "none (bootstrap)"
        cf = (sp.csr_matrix((n_items, n_items), dtype=np.float32), None, None) if sparse else None
        cooc = sp.csr_matrix((n_items, n_items), dtype=np.float32) if sparse else None
        if not sparse:
            cf = cooc = np.zeros((n_items, n_items), dtype=np.float32)
    step(f"collaborative model: {cf_name}")
    step("co-occurrence model: cosine" if learner else "co-occurrence model: none (bootstrap)")
    attr = attributes.sparse_similarity(items, NEIGHBOURS) if sparse else attributes.similarity(items)
    step("attribute model: tags and universes")

    contexts = context_names()
    if sparse:
        weights, cooc_part, low_rank, attr_scale = _sparse_weights(cf, cooc, attr, context_rows, contexts)
    else:
        n = n_items + len(contexts)
        weights = np.zeros((n, n), dtype=np.float32)
        cooc_part = COOC_WEIGHT * _scaled(cooc)
        weights[:n_items, :n_items] = CF_WEIGHT * _scaled(cf) + cooc_part + ATTR_WEIGHT * _scaled(attr)
        for k, name in enumerate(contexts):
            for j, value in context_rows.get(name, {}).items():
                weights[n_items + k, j] = value
        low_rank, attr_scale = None, _scale_of(attr)
    step("popularity and trending per age group, popularity per device")

    if learner is not None:
        metrics = learner.metrics(matrix, step)
    else:
        metrics = {}
        step("offline metrics: none (bootstrap)")
    users = int((matrix.getnnz(axis=1) > 0).sum())
    metrics.update({"users": float(users), "items": float(n_items), "interactions": float(matrix.nnz)})
    metrics["train_seconds"] = round(time.perf_counter() - started, 3)
    return ModelArtifact(
        version=version,
        items=[e.key for e in items],
        contexts=contexts,
        weights=weights,
        cooc=cooc_part,
        input_weights={**DEFAULT_INPUT_WEIGHTS, "attr": ATTR_WEIGHT / (attr_scale or 1.0)},
        metrics=metrics,
        description=f"{cf_name} + cooccurrence + attributes; {users} users, {n_items} items",
        created_at=datetime.now(UTC).isoformat(),
        tuning=dict(learner.tuning) if learner is not None else {},
        low_rank=low_rank,
    )


def _sparse_scale(part: sp.csr_matrix, low_rank: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """_scale_of for B = part + left @ right, from a sample of rows (no items x items matrix)."""
    n = part.shape[0]
    rows = np.sort(np.random.default_rng(0).choice(n, min(n, SCALE_SAMPLE_ROWS), replace=False))
    sample = part[rows].toarray()
    if low_rank is not None:
        sample += low_rank[0][rows] @ low_rank[1]
    return _scale_of(sample)


def _sparse_scaled(part: sp.csr_matrix, scale: float) -> sp.csr_matrix:
    scaled = sp.csr_matrix(part, dtype=np.float32, copy=True)
    scaled.data = np.clip(scaled.data / scale, -1.0, 2.0) if scale else np.zeros_like(scaled.data)
    scaled.eliminate_zeros()
    return scaled


def _sparse_weights(
    cf: tuple[sp.csr_matrix | None, np.ndarray | None, np.ndarray | None],
    cooc: sp.csr_matrix,
    attr: sp.csr_matrix,
    context_rows: dict[str, dict[int, float]],
    contexts: list[str],
) -> tuple[sp.csr_matrix, sp.csr_matrix, tuple[np.ndarray, np.ndarray] | None, float]:
    """W as inputs x items, each row cut to its ROW_WIDTH strongest links; the co-occurrence part;
    the collaborative model's low-rank part (left rows for every input, contexts' zero); the
    attribute part's scale."""
    part, left, right = cf
    n_items = attr.shape[0]
    part = part if part is not None else sp.csr_matrix((n_items, n_items), dtype=np.float32)
    low_rank = (left, right) if left is not None and right is not None else None
    cf_scale = _sparse_scale(part, low_rank)
    attr_scale = _sparse_scale(attr)
    cooc_part = COOC_WEIGHT * _sparse_scaled(cooc, _sparse_scale(cooc))
    items_block = (
        CF_WEIGHT * _sparse_scaled(part, cf_scale)
        + cooc_part
        + ATTR_WEIGHT * _sparse_scaled(attr, attr_scale)
    )
    context_block = sp.lil_matrix((len(contexts), n_items), dtype=np.float32)
    for k, name in enumerate(contexts):
        row = context_rows.get(name, {})
        strongest = sorted(row.items(), key=lambda kv: -kv[1])[:ROW_WIDTH]
        for j, value in strongest:
            context_block[k, j] = value
    weights = sp.vstack([items_block, context_block.tocsr()]).tocsr()
    columns, values = padded_rows(weights, ROW_WIDTH)
    valid = columns < n_items
    rows = np.repeat(np.arange(weights.shape[0]), valid.sum(axis=1))
    weights = sp.csr_matrix((values[valid], (rows, columns[valid])), shape=weights.shape, dtype=np.float32)
    if low_rank is not None and cf_scale:
        scaled_left = np.vstack(
            [CF_WEIGHT * low_rank[0] / cf_scale, np.zeros((len(contexts), low_rank[0].shape[1]))]
        )
        low_rank = (scaled_left.astype(np.float32), low_rank[1].astype(np.float32))
    else:
        low_rank = None
    return weights, cooc_part, low_rank, attr_scale
