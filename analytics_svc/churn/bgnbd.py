"""The BG/NBD model (Fader, Hardie and Lee 2005), the "P(alive)" baseline of predicted retention.

Pure functions over each customer's sufficient statistics: x (repeat transactions, here active
days after the first), t_x (time of the last, from the first) and T (time from the first to
the cut-off), all in days. While alive a customer transacts as a Poisson process with rate
lambda ~ Gamma(r, alpha); after each transaction they drop out with probability
p ~ Beta(a, b). The four parameters are fitted by maximum likelihood (the same likelihood the
`lifetimes` and `btyd` packages maximise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

LOG_BOUNDS = (-9.0, 9.0)  # each parameter in [1.2e-4, 8.1e3]


@dataclass(frozen=True)
class Params:
    r: float
    alpha: float
    a: float
    b: float


def _log_a_term(p: Params, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """log of (a / (b + x - 1)) * ((alpha + T) / (alpha + t_x)) ** (r + x), where x > 0."""
    xs = np.maximum(x, 1.0)
    return np.log(p.a) - np.log(p.b + xs - 1.0) + (p.r + x) * (np.log(p.alpha + T) - np.log(p.alpha + t_x))


def log_likelihood(p: Params, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Per-customer log-likelihood of (x, t_x, T)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    common = special.gammaln(p.r + x) - special.gammaln(p.r) + p.r * np.log(p.alpha)
    first = special.betaln(p.a, p.b + x) - special.betaln(p.a, p.b) - (p.r + x) * np.log(p.alpha + T)
    xs = np.maximum(x, 1.0)
    second = (
        special.betaln(p.a + 1.0, p.b + xs - 1.0)
        - special.betaln(p.a, p.b)
        - (p.r + x) * np.log(p.alpha + t_x)
    )
    second = np.where(x > 0, second, -np.inf)
    return common + np.logaddexp(first, second)


def fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, penalty: float = 0.0) -> Params:
    """Maximum likelihood over the log-parameters (L-BFGS-B within LOG_BOUNDS).

    Customers with the same (x, t_x, T) are counted once with a weight (daily data repeats
    them a lot). `penalty` adds penalty * sum(params**2) to the mean negative log-likelihood,
    as `lifetimes`' penalizer_coef does (0: plain maximum likelihood).
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if len(x) == 0:
        raise ValueError("no customers to fit")
    rows, weight = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    ux, ut, uT = rows.T
    total = float(weight.sum())

    def nll(theta: np.ndarray) -> float:
        values = np.exp(theta)
        ll = weight @ log_likelihood(Params(*values), ux, ut, uT)
        if not np.isfinite(ll):
            return 1e300
        return -ll / total + penalty * float(np.sum(values**2))

    start = np.log([1.0, max(float(np.mean(T)), 1.0), 1.0, 1.0])
    # Bounded: where the drop-out probability hardly varies between customers the likelihood
    # keeps rising, ever more slowly, as a and b grow together (p = a / (a + b) fixed).
    best = optimize.minimize(nll, start, method="L-BFGS-B", bounds=[LOG_BOUNDS] * 4)
    return Params(*np.exp(best.x))


def p_alive(p: Params, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(still alive at T | x, t_x, T); 1 for customers without a repeat transaction."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    log_term = np.where(x > 0, _log_a_term(p, x, t_x, T), -np.inf)
    return 1.0 / (1.0 + np.exp(log_term))


def p_return_within(p: Params, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float) -> np.ndarray:
    """P(at least one transaction in (T, T + t]): alive, and the Poisson process not silent.

    Given alive, lambda's posterior is Gamma(r + x, alpha + T), and a customer can only drop
    out right after a transaction, so P(none in t | alive) = ((alpha + T) / (alpha + T + t)) ** (r + x).
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    silent = np.exp((p.r + x) * (np.log(p.alpha + T) - np.log(p.alpha + T + t)))
    return p_alive(p, x, t_x, T) * (1.0 - silent)


def expected_transactions(p: Params, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float) -> np.ndarray:
    """E[transactions in (T, T + t] | x, t_x, T] (the paper's equation 10)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    hyp = special.hyp2f1(p.r + x, p.b + x, p.a + p.b + x - 1.0, t / (p.alpha + T + t))
    head = (p.a + p.b + x - 1.0) / (p.a - 1.0)
    body = 1.0 - ((p.alpha + T) / (p.alpha + T + t)) ** (p.r + x) * hyp
    log_term = np.where(x > 0, _log_a_term(p, x, t_x, T), -np.inf)
    return head * body / (1.0 + np.exp(log_term))


def simulate(p: Params, T: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(x, t_x) drawn from the model for customers observed for T each (continuous time)."""
    T = np.asarray(T, dtype=float)
    lam = rng.gamma(p.r, 1.0 / p.alpha, len(T))
    drop = rng.beta(p.a, p.b, len(T))
    x = np.zeros(len(T))
    t_x = np.zeros(len(T))
    for i in range(len(T)):
        t = 0.0
        while True:
            t += rng.exponential(1.0 / lam[i])
            if t > T[i]:
                break
            x[i] += 1
            t_x[i] = t
            if rng.random() < drop[i]:
                break
    return x, t_x
