"""Linear blend of item-item models: score(x) = sum_m w_m * score_m(x) / scale_m.

Each part is divided by the mean absolute score it gives (a sample of) the training users, so the
weights are comparable across models of different scale. Because every part is linear in x, the
blend is itself x @ B with B = sum_m w_m B_m / scale_m: `dense_weights()` gives that single matrix
for the ONNX graph, while `score()` never materializes it (so sparse or low-rank parts stay cheap
on big catalogs).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from reco_svc.offline.models.base import ItemItemModel, as_csr

SCALE_SAMPLE_USERS = 1000


class BlendModel(ItemItemModel):
    def __init__(self, parts: list[tuple[float, ItemItemModel]]) -> None:
        if not parts:
            raise ValueError("a blend needs at least one model")
        self.parts = parts
        self.factors: list[float] | None = None

    def fit(
        self,
        interactions: sp.csr_matrix,
        times: sp.spmatrix | None = None,
        ratings: sp.spmatrix | None = None,
    ) -> BlendModel:
        """`times` and `ratings` (the pairs') go to the parts that use them (`uses_times`)."""
        x = as_csr(interactions)
        sample = x
        if x.shape[0] > SCALE_SAMPLE_USERS:
            rows = np.random.default_rng(0).choice(x.shape[0], SCALE_SAMPLE_USERS, replace=False)
            sample = x[np.sort(rows)]
        self.factors = []
        for weight, model in self.parts:
            if getattr(model, "uses_times", False):
                model.fit(x, times=times, ratings=ratings)
            else:
                model.fit(x)
            scale = float(np.abs(model.score(sample)).mean()) or 1.0
            self.factors.append(weight / scale)
        return self

    def score(self, user_rows: sp.csr_matrix | np.ndarray) -> np.ndarray:
        if self.factors is None:
            raise RuntimeError("call fit() before score()")
        total = sum(
            f * model.score(user_rows) for f, (_, model) in zip(self.factors, self.parts, strict=True)
        )
        return np.asarray(total, dtype=np.float32)

    def sparse_parts(self) -> tuple[sp.csr_matrix | None, np.ndarray | None, np.ndarray | None]:
        if self.factors is None:
            raise RuntimeError("call fit() before sparse_parts()")
        sparse, lefts, rights = None, [], []
        for f, (_, model) in zip(self.factors, self.parts, strict=True):
            part, left, right = model.sparse_parts()
            if part is not None:
                sparse = f * part if sparse is None else sparse + f * part
            if left is not None and right is not None:
                lefts.append(f * left)
                rights.append(right)
        if not lefts:
            return sparse, None, None
        return sparse, np.hstack(lefts).astype(np.float32), np.vstack(rights).astype(np.float32)

    def dense_weights(self) -> np.ndarray:
        if self.factors is None:
            raise RuntimeError("call fit() before dense_weights()")
        weights = [f * model.dense_weights() for f, (_, model) in zip(self.factors, self.parts, strict=True)]
        return np.asarray(sum(weights), dtype=np.float32)
