"""Build a servable model from the catalog and the interactions (pure: no database, no files).

    artifact = build_artifact(entries, interactions, age_groups, now, version="v1")

Components of W's item block, each scaled to a comparable range first:
  1.0 × collaborative (reco_svc.models: EASE with degree normalization by default)
  0.5 × co-occurrence cosine ("children who picked Goku also picked Woody")
  0.3 × attribute cosine (tags, universe: cold start for new users and sparse items)
Context rows: popularity and trending per age group (trending.py), popularity per device.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

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
MIN_USERS_FOR_CF = 3
MIN_USERS_FOR_METRICS = 20

Step = Callable[[str], None]


def _noop(_: str) -> None:
    return None


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


def fit_collaborative(matrix: sp.csr_matrix, model_name: str) -> tuple[np.ndarray, str]:
    from reco_svc.models import make_model

    n_items = matrix.shape[1]
    if matrix.shape[0] < MIN_USERS_FOR_CF or matrix.nnz == 0:
        return np.zeros((n_items, n_items), dtype=np.float32), "none (too few users)"
    name, model = make_model(model_name, n_items)
    model.fit(matrix)  # type: ignore[attr-defined]
    return model.dense_weights(), name  # type: ignore[attr-defined]


def fit_cooccurrence(matrix: sp.csr_matrix) -> np.ndarray:
    from reco_svc.models.cooccurrence import CooccurrenceModel

    n_items = matrix.shape[1]
    if matrix.nnz == 0:
        return np.zeros((n_items, n_items), dtype=np.float32)
    return CooccurrenceModel(similarity="cosine").fit(matrix).dense_weights()


def offline_metrics(matrix: sp.csr_matrix, model_name: str, k: int = 10) -> dict[str, float]:
    """Per-item 75/25 split of the user x item pairs; collaborative model vs popularity."""
    from reco_svc.models import make_model
    from reco_svc.models.popularity import PopularityModel
    from reco_svc.ranking import evaluate
    from reco_svc.splits import per_item_split

    if matrix.shape[0] < MIN_USERS_FOR_METRICS:
        return {}
    coo = matrix.tocoo()
    train_mask, test_mask = per_item_split(coo.col)
    shape = matrix.shape

    def part(mask: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix((coo.data[mask], (coo.row[mask], coo.col[mask])), shape=shape)

    train, test = part(train_mask), part(test_mask)
    found: dict[str, float] = {}
    _, model = make_model(model_name, shape[1])
    for prefix, candidate in (("collaborative", model), ("popularity", PopularityModel())):
        result = evaluate(candidate, train, test, k=k)  # type: ignore[arg-type]
        found.update({f"{prefix}_{name}": round(value, 5) for name, value in result.metrics.items()})
    return found


def build_artifact(
    entries: Sequence[CatalogEntry],
    interactions: Sequence[Interaction],
    age_groups: dict[str, str],
    devices: dict[str, str],
    now: datetime,
    version: str,
    model_name: str | None = None,
    step: Step = _noop,
    with_metrics: bool = True,
    collaborative: bool = True,
) -> ModelArtifact:
    """`collaborative=False`: no collaborative or co-occurrence part (the bootstrap model built
    while nothing is trained yet: attributes plus the age groups' popularity and trending)."""
    from reco_svc.models import DEFAULT_MODEL

    model_name = model_name or DEFAULT_MODEL
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

    if collaborative:
        cf, cf_name = fit_collaborative(matrix, model_name)
        cooc = fit_cooccurrence(matrix)
    else:
        cf = cooc = np.zeros((n_items, n_items), dtype=np.float32)
        cf_name = "none (bootstrap)"
    step(f"collaborative model: {cf_name}")
    step("co-occurrence model: cosine" if collaborative else "co-occurrence model: none (bootstrap)")
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

    metrics = offline_metrics(matrix, model_name) if with_metrics else {}
    if metrics:
        shown = ", ".join(f"{k}={v:.3f}" for k, v in sorted(metrics.items()) if "ndcg" in k)
        step(f"offline metrics: {shown}")
    else:
        step(f"offline metrics: skipped (fewer than {MIN_USERS_FOR_METRICS} users)")
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
