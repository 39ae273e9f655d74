"""The models: named configurations, and the families automatic tuning chooses among.

MODELS holds fixed configurations (`--model NAME`); FAMILIES are the blends tuning.py searches:
each names its parts, a prior (hyper-parameters that did well before: the search starts there)
and a grid per hyper-parameter. Dense EASE families need the items² inverse and are only
considered up to MAX_DENSE_ITEMS items; the sparse families serve any catalog.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from reco_svc.offline.models.base import ItemItemModel
from reco_svc.offline.models.blend import BlendModel
from reco_svc.offline.models.cooccurrence import CooccurrenceModel
from reco_svc.offline.models.ease import MAX_DENSE_ITEMS, EaseModel
from reco_svc.offline.models.lowpass import LowPassModel
from reco_svc.offline.models.popularity import PopularityModel
from reco_svc.offline.models.rp3beta import RP3BetaModel
from reco_svc.offline.models.session_ease import SessionEaseModel
from reco_svc.offline.models.sparse_ease import SparseEaseModel

# One part of a blend, by kind and hyper-parameters.
PARTS: dict[str, Callable[..., ItemItemModel]] = {
    "ease": lambda l2, alpha: EaseModel(l2=l2, item_alpha=alpha),
    "session_ease": lambda l2, alpha, tau, floor, rating: SessionEaseModel(l2, alpha, tau, floor, rating),
    "sparse_ease": lambda l2, alpha, neighbours: SparseEaseModel(l2, alpha, int(neighbours)),
    "lowpass": lambda rank, exponent: LowPassModel(rank=int(rank), item_exponent=exponent),
    "rp3beta": lambda walk_alpha, beta, walk_neighbours: RP3BetaModel(walk_alpha, beta, int(walk_neighbours)),
}
# Which hyper-parameters each part takes (the family's params are named uniquely across parts).
PART_PARAMS: dict[str, tuple[str, ...]] = {
    "ease": ("l2", "alpha"),
    "session_ease": ("l2", "alpha", "tau", "floor", "rating"),
    "sparse_ease": ("l2", "alpha", "neighbours"),
    "lowpass": ("rank", "exponent"),
    "rp3beta": ("walk_alpha", "beta", "walk_neighbours"),
}


@dataclass(frozen=True)
class Family:
    """(1 - weight) × first part + weight × second part (a single part when there is one)."""

    name: str
    parts: tuple[str, ...]
    prior: dict[str, float]
    grid: dict[str, tuple[float, ...]] = field(default_factory=dict)
    dense: bool = False  # needs an items x items inverse
    # Needs the pairs' timestamps (fitted with `times`, and `ratings` when there are; tuning
    # skips it without times).
    timed: bool = False

    def part_params(self, params: dict[str, float]) -> list[tuple[str, tuple[float, ...]]]:
        return [(part, tuple(params[p] for p in PART_PARAMS[part])) for part in self.parts]

    def build(self, params: dict[str, float]) -> ItemItemModel:
        models = [PARTS[part](*values) for part, values in self.part_params(params)]
        if len(models) == 1:
            return models[0]
        weight = params["weight"]
        return BlendModel([(1.0 - weight, models[0]), (weight, models[1])])

    def fits(self, n_items: int, timed: bool = False) -> bool:
        """Whether the family can be fitted: a dense one on a small enough catalog, a timed one
        when the pairs have timestamps."""
        return (not self.dense or n_items <= MAX_DENSE_ITEMS) and (timed or not self.timed)


LOWPASS_GRID = {
    "rank": (8.0, 12.0, 16.0, 24.0, 32.0, 48.0),
    "exponent": (0.2, 0.3, 0.4, 0.5),
    "weight": (0.1, 0.2, 0.3, 0.4, 0.5),
}
EASE_GRID = {
    "l2": (5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0),
    "alpha": (0.0, 0.1, 0.2, 0.3, 0.4),
}
FAMILIES: dict[str, Family] = {
    "ease_lowpass": Family(
        "ease_lowpass",
        ("ease", "lowpass"),
        {"l2": 40.0, "alpha": 0.3, "rank": 16.0, "exponent": 0.3, "weight": 0.3},
        {**EASE_GRID, **LOWPASS_GRID},
        dense=True,
    ),
    "sparse_ease_lowpass": Family(
        "sparse_ease_lowpass",
        ("sparse_ease", "lowpass"),
        {"l2": 40.0, "alpha": 0.3, "neighbours": 64.0, "rank": 16.0, "exponent": 0.3, "weight": 0.3},
        {**EASE_GRID, "neighbours": (32.0, 64.0, 128.0, 256.0), **LOWPASS_GRID},
    ),
    # ease_lowpass with a Gram weighting the pairs picked close in time, and by their ratings
    # when there are (session_ease.py). The prior is the best of small grids (tau 200/900/3600,
    # floor 0.25/0.4/0.6, l2 20/30/45; then rating 0/0.15/0.3/0.5/0.8) on the validation folds
    # (as tuning.py makes them) of the training parts of MovieLens-100k split seeds 42, 45 and
    # 46: never their test parts.
    "session_ease_lowpass": Family(
        "session_ease_lowpass",
        ("session_ease", "lowpass"),
        {
            "l2": 20.0,
            "alpha": 0.3,
            "tau": 200.0,
            "floor": 0.25,
            "rating": 0.3,
            "rank": 16.0,
            "exponent": 0.3,
            "weight": 0.3,
        },
        {
            **EASE_GRID,
            "tau": (60.0, 200.0, 900.0, 3600.0, 14400.0),
            "floor": (0.1, 0.25, 0.4, 0.6, 1.0),
            "rating": (0.0, 0.15, 0.3, 0.5),
            **LOWPASS_GRID,
        },
        dense=True,
        timed=True,
    ),
    "rp3beta_lowpass": Family(
        "rp3beta_lowpass",
        ("rp3beta", "lowpass"),
        {
            "walk_alpha": 0.8,
            "beta": 0.4,
            "walk_neighbours": 200.0,
            "rank": 16.0,
            "exponent": 0.3,
            "weight": 0.35,
        },
        {
            "walk_alpha": (0.4, 0.6, 0.8, 1.0),
            "beta": (0.0, 0.2, 0.3, 0.4, 0.5, 0.6),
            "walk_neighbours": (50.0, 100.0, 200.0, 400.0),
            **LOWPASS_GRID,
        },
    ),
}


def _at_prior(family: str) -> ItemItemModel:
    return FAMILIES[family].build(FAMILIES[family].prior)


# Fixed configurations, e.g. for comparisons: `python -m reco_svc.evaluate --model NAME`.
MODELS: dict[str, Callable[[], object]] = {
    "ease_lowpass": lambda: _at_prior("ease_lowpass"),
    "sparse_ease_lowpass": lambda: _at_prior("sparse_ease_lowpass"),
    "ease_norm": lambda: EaseModel(l2=40.0, item_alpha=0.3),
    "ease": lambda: EaseModel(l2=500.0),
    "sparse_ease": lambda: SparseEaseModel(l2=40.0, item_alpha=0.3, neighbours=128),
    "edlae": lambda: EaseModel(l2=300.0, dropout=0.55),
    "lowpass": lambda: LowPassModel(rank=32, item_exponent=0.5),
    "rp3beta_lowpass": lambda: _at_prior("rp3beta_lowpass"),
    "rp3beta": lambda: RP3BetaModel(alpha=0.8, beta=0.4, neighbours=200),
    "cooccurrence": lambda: CooccurrenceModel(similarity="cosine"),
    "popularity": PopularityModel,
}
# `auto`: the family and hyper-parameters are chosen by tuning.py on every training.
AUTO = "auto"
DEFAULT_MODEL = AUTO
DENSE_MODELS = frozenset({"ease_lowpass", "ease_norm", "ease", "edlae", "lowpass"})
# EASE's dense inverse is O(items^3): above MAX_DENSE_ITEMS the dense models become this one.
LARGE_CATALOG_FALLBACK = "sparse_ease_lowpass"


def make_model(name: str, n_items: int) -> tuple[str, object]:
    """Build a fixed configuration by name; dense models fall back to the sparse path on big
    catalogs. Returns the name actually used with the model."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)} or {AUTO!r}")
    if name in DENSE_MODELS and n_items > MAX_DENSE_ITEMS:
        name = LARGE_CATALOG_FALLBACK
    return name, MODELS[name]()
