"""BG/NBD: the closed forms against numerical integration over (lambda, p), and maximum
likelihood recovering the parameters of data drawn from the model."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analytics_svc.churn import bgnbd

P = bgnbd.Params(r=0.8, alpha=6.0, a=0.9, b=2.7)
CASES = [(0, 0.0, 20.0), (1, 3.0, 20.0), (4, 18.0, 20.0), (4, 5.0, 40.0), (10, 39.0, 40.0)]


# Gauss-Legendre nodes in quantile space: lambda = Gamma.ppf(u), p = Beta.ppf(v) turn the
# expectation over the priors into a plain integral over the unit square.
_U, _W = np.polynomial.legendre.leggauss(400)
_U, _W = (_U + 1) / 2, _W / 2
LAM = stats.gamma(P.r, scale=1 / P.alpha).ppf(_U)[:, None]
DROP = stats.beta(P.a, P.b).ppf(_U)[None, :]
WEIGHT = _W[:, None] * _W[None, :]


def integral(fn):
    """E over lambda ~ Gamma(r, alpha), p ~ Beta(a, b) of fn(lambda, p)."""
    return float((fn(LAM, DROP) * WEIGHT).sum())


def alive_part(x, T):
    return lambda lam, p: (1 - p) ** x * lam**x * np.exp(-lam * T)


def dead_part(x, t_x):
    return lambda lam, p: p * (1 - p) ** (x - 1) * lam**x * np.exp(-lam * t_x)


@pytest.mark.parametrize(("x", "t_x", "T"), CASES)
def test_likelihood_p_alive_and_return_by_integration(x, t_x, T):
    alive = integral(alive_part(x, T))
    dead = integral(dead_part(x, t_x)) if x > 0 else 0.0
    assert bgnbd.log_likelihood(P, np.array([x]), np.array([t_x]), np.array([T]))[0] == pytest.approx(
        np.log(alive + dead), rel=1e-3
    )
    assert bgnbd.p_alive(P, x, t_x, T) == pytest.approx(alive / (alive + dead), rel=1e-3)
    t = 7.0
    back = integral(lambda lam, p: alive_part(x, T)(lam, p) * (1 - np.exp(-lam * t)))
    assert bgnbd.p_return_within(P, x, t_x, T, t) == pytest.approx(back / (alive + dead), rel=1e-3)
    # E[X(t) | lambda, p, alive] = (1 - exp(-lambda p t)) / p (the paper's equation 7)
    expected = integral(lambda lam, p: alive_part(x, T)(lam, p) * (1 - np.exp(-lam * p * t)) / p)
    assert bgnbd.expected_transactions(P, x, t_x, T, t) == pytest.approx(expected / (alive + dead), rel=1e-3)


def test_maximum_likelihood_recovers_the_parameters():
    rng = np.random.default_rng(11)
    truth = bgnbd.Params(r=0.6, alpha=4.0, a=0.8, b=2.4)
    T = rng.uniform(20, 60, 6000)
    x, t_x = bgnbd.simulate(truth, T, rng)
    fitted = bgnbd.fit(x, t_x, T)
    assert fitted.r == pytest.approx(truth.r, rel=0.15)
    assert fitted.alpha == pytest.approx(truth.alpha, rel=0.2)
    # a and b are less well identified separately; the mean drop-out probability is
    assert fitted.a / (fitted.a + fitted.b) == pytest.approx(truth.a / (truth.a + truth.b), rel=0.15)
    # and the fit is at least as likely as the truth
    ll = lambda p: bgnbd.log_likelihood(p, x, t_x, T).sum()  # noqa: E731
    assert ll(fitted) >= ll(truth) - 1e-6


def test_no_repeat_means_alive_and_recency_lowers_p_alive():
    assert bgnbd.p_alive(P, 0, 0.0, 30.0) == 1.0
    recent, old = bgnbd.p_alive(P, np.array([5, 5]), np.array([29.0, 5.0]), np.array([30.0, 30.0]))
    assert recent > old
