"""Model registry with the hyper-parameters fixed after validation tuning (docs/recommendation-models.md)."""

from __future__ import annotations

from collections.abc import Callable

from reco_svc.offline.models.blend import BlendModel
from reco_svc.offline.models.cooccurrence import CooccurrenceModel
from reco_svc.offline.models.ease import MAX_DENSE_ITEMS, EaseModel
from reco_svc.offline.models.lowpass import LowPassModel
from reco_svc.offline.models.popularity import PopularityModel
from reco_svc.offline.models.rp3beta import RP3BetaModel

# Picked on validation splits carved from the training part (python -m reco_svc.offline.tuning).
MODELS: dict[str, Callable[[], object]] = {
    "ease_lowpass": lambda: BlendModel(
        [(0.7, EaseModel(l2=40.0, item_alpha=0.3)), (0.3, LowPassModel(rank=16, item_exponent=0.3))]
    ),
    "ease_norm": lambda: EaseModel(l2=40.0, item_alpha=0.3),
    "ease": lambda: EaseModel(l2=500.0),
    "edlae": lambda: EaseModel(l2=300.0, dropout=0.55),
    "lowpass": lambda: LowPassModel(rank=32, item_exponent=0.5),
    "rp3beta_lowpass": lambda: BlendModel(
        [
            (0.65, RP3BetaModel(alpha=0.8, beta=0.4, neighbours=200)),
            (0.35, LowPassModel(rank=16, item_exponent=0.3)),
        ]
    ),
    "rp3beta": lambda: RP3BetaModel(alpha=0.8, beta=0.4, neighbours=200),
    "cooccurrence": lambda: CooccurrenceModel(similarity="cosine"),
    "popularity": PopularityModel,
}
DEFAULT_MODEL = "ease_lowpass"
DENSE_MODELS = frozenset({"ease_lowpass", "ease_norm", "ease", "edlae", "lowpass"})
# Sparse path for catalogs above MAX_DENSE_ITEMS (EASE's dense inverse is O(items^3)).
LARGE_CATALOG_FALLBACK = "rp3beta_lowpass"


def make_model(name: str, n_items: int) -> tuple[str, object]:
    """Build a model by name; dense EASE-family models fall back to the sparse path on big catalogs.

    Returns the name actually used with the model.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    if name in DENSE_MODELS and n_items > MAX_DENSE_ITEMS:
        name = LARGE_CATALOG_FALLBACK
    return name, MODELS[name]()
