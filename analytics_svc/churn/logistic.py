"""The retention model: L2-regularised logistic regression on standardised features, and the
two-part model built on it that the service and the evaluation train (`fit_two_part`).

Written here (numpy + scipy's L-BFGS) rather than taken from a library: a few dozen lines, no
dependency for the services, a model that serialises to a small JSON document, and per-feature
contributions on the logit scale, which the churn-risk report reads as the strongest factors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.special import expit, log_expit

TWO_PART_L2 = 50.0  # chosen on simulated seeds 1-3 (docs/analytics.md); 7-9 are the reported ones


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
        return _standardised_logit_dict(self)

    @classmethod
    def from_dict(cls, d: dict) -> LogisticModel:
        return cls(*_standardised_logit_args(d))


def _standardised_logit_dict(model: LogisticModel | TwoPartModel) -> dict:
    """The fields both models share: the standardisation and one logit."""
    return {
        "features": list(model.features),
        "mean": model.mean.tolist(),
        "scale": model.scale.tolist(),
        "coef": model.coef.tolist(),
        "intercept": model.intercept,
    }


def _standardised_logit_args(d: dict) -> tuple:
    return (
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


@dataclass
class TwoPartModel:
    """P(return) = sigmoid(gate) x sigmoid(pace): a logistic "still around" gate times a
    logistic "comes back within the horizon when around", both on the same standardised
    features, fitted together by maximum likelihood. A hurdle model: a child who left and a
    child between two visits look alike in one logit, not in two. Same interface as
    LogisticModel."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # the gate's
    intercept: float
    coef_pace: np.ndarray
    intercept_pace: float

    def standardise(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, dtype=float) - self.mean) / self.scale

    def predict(self, X: np.ndarray) -> np.ndarray:
        Z = self.standardise(X)
        return expit(Z @ self.coef + self.intercept) * expit(Z @ self.coef_pace + self.intercept_pace)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """[rows, features]: each feature's push on the two logits together, against the
        training average (negative: lowers the chance of returning)."""
        return self.standardise(X) * (self.coef + self.coef_pace)

    def to_dict(self) -> dict:
        return {
            "kind": "two_part",
            **_standardised_logit_dict(self),
            "coef_pace": self.coef_pace.tolist(),
            "intercept_pace": self.intercept_pace,
        }

    @classmethod
    def from_dict(cls, d: dict) -> TwoPartModel:
        pace = np.asarray(d["coef_pace"], dtype=float)
        return cls(*_standardised_logit_args(d), pace, float(d["intercept_pace"]))


def from_dict(d: dict) -> LogisticModel | TwoPartModel:
    return TwoPartModel.from_dict(d) if d.get("kind") == "two_part" else LogisticModel.from_dict(d)


def fit_two_part(
    X: np.ndarray, y: np.ndarray, features: tuple[str, ...], l2: float = TWO_PART_L2
) -> TwoPartModel:
    """Minimises the mean log-loss + l2 / n * (|gate coef|^2 + |pace coef|^2) / 2, from the
    plain logistic fit as the gate (shifted up by 1) and a pace that first says "likely" (2)."""
    start = fit(X, y, features)
    Z = start.standardise(X)
    y = np.asarray(y, dtype=float)
    n, k = Z.shape

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        wa, wb = w[:k], w[k + 1 : 2 * k + 1]
        za, zb = Z @ wa + w[k], Z @ wb + w[2 * k + 1]
        log_p = log_expit(za) + log_expit(zb)
        p = np.minimum(np.exp(log_p), 1 - 1e-12)
        value = -(y * log_p + (1 - y) * np.log1p(-p)).mean() + 0.5 * l2 / n * (wa @ wa + wb @ wb)
        d_log_p = -(y - (1 - y) * p / (1 - p))  # d loss / d log p, per row
        da, db = d_log_p * expit(-za), d_log_p * expit(-zb)
        grad = np.concatenate(
            [Z.T @ da / n + l2 / n * wa, [da.mean()], Z.T @ db / n + l2 / n * wb, [db.mean()]]
        )
        return float(value), grad

    w0 = np.concatenate([start.coef, [start.intercept + 1.0], np.zeros(k), [2.0]])
    w = optimize.minimize(loss, w0, jac=True, method="L-BFGS-B", options={"maxiter": 3000}).x
    return TwoPartModel(
        tuple(features),
        start.mean,
        start.scale,
        w[:k].copy(),
        float(w[k]),
        w[k + 1 : 2 * k + 1].copy(),
        float(w[2 * k + 1]),
    )
