"""The retention model: L2-regularised logistic regression on standardised features.

Written here (numpy + scipy's L-BFGS) rather than taken from a library: a few dozen lines, no
dependency for the services, a model that serialises to a small JSON document, and per-feature
contributions on the logit scale, which the churn-risk report reads as the strongest factors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.special import expit


@dataclass
class LogisticModel:
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def standardise(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, dtype=float) - self.mean) / self.scale

    def logit(self, X: np.ndarray) -> np.ndarray:
        return self.standardise(X) @ self.coef + self.intercept

    def predict(self, X: np.ndarray) -> np.ndarray:
        return expit(self.logit(X))

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """[rows, features]: each feature's push on the logit against the training average
        (negative: lowers the chance of returning)."""
        return self.standardise(X) * self.coef

    def to_dict(self) -> dict:
        return {
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
        }

    @classmethod
    def from_dict(cls, d: dict) -> LogisticModel:
        return cls(
            tuple(d["features"]),
            np.asarray(d["mean"], dtype=float),
            np.asarray(d["scale"], dtype=float),
            np.asarray(d["coef"], dtype=float),
            float(d["intercept"]),
        )


def fit(X: np.ndarray, y: np.ndarray, features: tuple[str, ...], l2: float = 1.0) -> LogisticModel:
    """Minimises the mean log-loss + l2 / n * |coef|^2 / 2 (the intercept is not penalised)."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    n, k = X.shape
    if n == 0 or len(np.unique(y)) < 2:
        raise ValueError("need rows of both outcomes to fit")
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-12] = 1.0
    Z = (X - mean) / scale

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = Z @ w[:k] + w[k]
        # log(1 + e^z) - y z, stably
        value = np.logaddexp(0.0, z) - y * z
        p = expit(z)
        grad = np.empty(k + 1)
        grad[:k] = Z.T @ (p - y) / n + l2 / n * w[:k]
        grad[k] = (p - y).mean()
        return float(value.mean() + 0.5 * l2 / n * w[:k] @ w[:k]), grad

    base = min(max(y.mean(), 1e-6), 1 - 1e-6)
    w0 = np.zeros(k + 1)
    w0[k] = np.log(base / (1 - base))
    result = optimize.minimize(loss, w0, jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    return LogisticModel(tuple(features), mean, scale, result.x[:k].copy(), float(result.x[k]))
