"""Linear blend of item-item models: B = sum_m w_m * B_m / scale_m.

Blending the weight matrices (not per-user scores) keeps the result a single item x item matrix,
so the same ONNX graph serves it. Each B_m is divided by the mean absolute score it gives the
training users, so the weights are comparable across models of different scale.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from reco_svc.models.base import ItemItemModel, as_csr


class BlendModel(ItemItemModel):
    def __init__(self, parts: list[tuple[float, ItemItemModel]]) -> None:
        if not parts:
            raise ValueError("a blend needs at least one model")
        self.parts = parts

    def fit(self, interactions: sp.csr_matrix) -> BlendModel:
        x = as_csr(interactions)
        combined: np.ndarray | None = None
        for weight, model in self.parts:
            model.fit(x)
            dense = model.dense_weights().astype(np.float64)
            scale = float(np.abs(x @ dense).mean()) or 1.0
            term = (weight / scale) * dense
            combined = term if combined is None else combined + term
        self.item_weights = np.asarray(combined, dtype=np.float32)
        return self
