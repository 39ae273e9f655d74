"""Experiment statistics over sufficient statistics (pure: no database, no randomness).

Every variant of every metric arrives as `Moments`: n users and the sums of y, y², and of
a second per-user value x with x² and x·y. x is the CUPED covariate (the same metric
before exposure) for conversion and mean metrics, and the denominator for ratio metrics.
From these alone (as GrowthBook's gbstats) come: per-variant estimates, Welch t-tests
with confidence intervals, delta-method relative lifts and ratio variances, a normal
Bayesian posterior, always-valid confidence sequences against peeking, SRM and Holm.
Formulas: docs/experiments.md. Distributions come from scipy.stats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

ALPHA = 0.05
SRM_P = 0.001
# Sample size (total users) at which the confidence sequence is tightest (GrowthBook's default).
SEQUENTIAL_TUNING = 5000


@dataclass(frozen=True)
class Moments:
    n: int
    sum: float
    sum_sq: float
    x_sum: float = 0.0
    x_sum_sq: float = 0.0
    xy_sum: float = 0.0


@dataclass(frozen=True)
class Estimate:
    """A variant's metric value and the variance of ONE user's contribution: var(value) = var / n."""

    n: int
    value: float
    var: float


def _sample_var(n: int, total: float, total_sq: float) -> float:
    return max(total_sq - total * total / n, 0.0) / (n - 1) if n > 1 else 0.0


def _sample_cov(n: int, sx: float, sy: float, sxy: float) -> float:
    return (sxy - sx * sy / n) / (n - 1) if n > 1 else 0.0


def mean_estimate(m: Moments) -> Estimate:
    if m.n == 0:
        return Estimate(0, math.nan, math.nan)
    return Estimate(m.n, m.sum / m.n, _sample_var(m.n, m.sum, m.sum_sq))


def ratio_estimate(m: Moments) -> Estimate:
    """sum(y) / sum(x) with the delta-method variance of a ratio of means:
    s² = var_y/μx² − 2·μy·cov/μx³ + μy²·var_x/μx⁴ (per user, so var(ratio) = s²/n)."""
    if m.n == 0 or m.x_sum == 0:
        return Estimate(m.n, math.nan, math.nan)
    my, mx = m.sum / m.n, m.x_sum / m.n
    vy, vx = _sample_var(m.n, m.sum, m.sum_sq), _sample_var(m.n, m.x_sum, m.x_sum_sq)
    cov = _sample_cov(m.n, m.sum, m.x_sum, m.xy_sum)
    var = vy / mx**2 - 2 * my * cov / mx**3 + my**2 * vx / mx**4
    return Estimate(m.n, my / mx, max(var, 0.0))


def cuped_theta(moments: Sequence[Moments]) -> float:
    """θ = cov(x, y) / var(x) over all variants pooled (one θ for every arm keeps the
    adjustment unbiased: x is measured before exposure, so it is independent of the arm)."""
    n = sum(m.n for m in moments)
    sx, sy = sum(m.x_sum for m in moments), sum(m.sum for m in moments)
    vx = _sample_var(n, sx, sum(m.x_sum_sq for m in moments))
    if n < 2 or vx <= 0:
        return 0.0
    return _sample_cov(n, sx, sy, sum(m.xy_sum for m in moments)) / vx


def cuped_estimate(m: Moments, theta: float, x_mean: float) -> Estimate:
    """ȳ − θ(x̄ − x̄_pooled), per-user variance var_y + θ²var_x − 2θ·cov(x, y)."""
    if m.n == 0:
        return Estimate(0, math.nan, math.nan)
    vy, vx = _sample_var(m.n, m.sum, m.sum_sq), _sample_var(m.n, m.x_sum, m.x_sum_sq)
    cov = _sample_cov(m.n, m.x_sum, m.sum, m.xy_sum)
    value = m.sum / m.n - theta * (m.x_sum / m.n - x_mean)
    return Estimate(m.n, value, max(vy + theta**2 * vx - 2 * theta * cov, 0.0))


def estimates(kind: str, moments: Sequence[Moments], cuped: bool = False) -> tuple[list[Estimate], float]:
    """Per-variant estimates of a metric (kind: conversion, mean, ratio) and the θ used (0 without CUPED)."""
    if kind == "ratio":
        return [ratio_estimate(m) for m in moments], 0.0
    if not cuped:
        return [mean_estimate(m) for m in moments], 0.0
    theta = cuped_theta(moments)
    n = sum(m.n for m in moments)
    x_mean = sum(m.x_sum for m in moments) / n if n else 0.0
    return [cuped_estimate(m, theta, x_mean) for m in moments], theta


@dataclass(frozen=True)
class Comparison:
    """Treatment against control. Absolute and relative lifts with (1−α) intervals."""

    diff: float
    diff_low: float
    diff_high: float
    p_value: float
    df: float
    lift: float
    lift_low: float
    lift_high: float
    chance_to_win: float
    expected_loss: float
    seq_low: float
    seq_high: float

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA

    @property
    def sequential_significant(self) -> bool:
        return self.seq_low > 0 or self.seq_high < 0


_NAN = Comparison(*([math.nan] * 12))


def compare(
    control: Estimate,
    treatment: Estimate,
    alpha: float = ALPHA,
    goal: str = "increase",
    tuning: int = SEQUENTIAL_TUNING,
) -> Comparison:
    if min(control.n, treatment.n) < 2 or math.isnan(control.value) or math.isnan(treatment.value):
        return _NAN
    se2_c, se2_t = control.var / control.n, treatment.var / treatment.n
    se = math.sqrt(se2_c + se2_t)
    diff = treatment.value - control.value
    if se == 0:
        return _NAN
    # Welch–Satterthwaite degrees of freedom.
    df = (se2_c + se2_t) ** 2 / (se2_c**2 / (control.n - 1) + se2_t**2 / (treatment.n - 1))
    t_crit = stats.t.ppf(1 - alpha / 2, df)
    p_value = 2 * stats.t.sf(abs(diff) / se, df)
    lift = lift_low = lift_high = math.nan
    if control.value != 0:
        # Delta method for m_t / m_c − 1 (the two means are independent).
        lift = treatment.value / control.value - 1
        se_lift = math.sqrt(se2_t / control.value**2 + treatment.value**2 * se2_c / control.value**4)
        z = stats.norm.ppf(1 - alpha / 2)
        lift_low, lift_high = lift - z * se_lift, lift + z * se_lift
    # Flat-prior normal posterior of the true difference D ~ N(diff, se²); "winning" is
    # moving in the metric's goal direction, the loss is E[max(0, −gain)] of shipping it.
    gain = diff if goal == "increase" else -diff
    chance = float(stats.norm.cdf(gain / se))
    loss = float(se * stats.norm.pdf(gain / se) - gain * stats.norm.cdf(-gain / se))
    half = sequential_halfwidth(se, control.n + treatment.n, alpha, tuning)
    return Comparison(
        diff,
        diff - t_crit * se,
        diff + t_crit * se,
        float(p_value),
        float(df),
        lift,
        lift_low,
        lift_high,
        chance,
        loss,
        diff - half,
        diff + half,
    )


def sequential_halfwidth(se: float, n: int, alpha: float = ALPHA, tuning: int = SEQUENTIAL_TUNING) -> float:
    """Half-width of the two-sided normal-mixture confidence sequence (Howard et al. 2021,
    eq. 14; as GrowthBook): valid at every look at once, so peeking cannot inflate errors.
    s² = n·se² is the per-unit variance; ρ is tuned to be tightest at n = tuning."""
    rho2 = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning
    s2 = n * se**2
    return math.sqrt(s2) * math.sqrt(
        2 * (n * rho2 + 1) / (n**2 * rho2) * math.log(math.sqrt(n * rho2 + 1) / alpha)
    )


@dataclass(frozen=True)
class Srm:
    chi2: float
    p_value: float
    expected: list[float]

    @property
    def mismatch(self) -> bool:
        return self.p_value < SRM_P


def srm(observed: Sequence[int], weights: Sequence[float]) -> Srm:
    """Chi-square goodness of fit of the users per variant against the configured weights.
    Arms with weight 0 are left out (and are a mismatch when they received users)."""
    total = sum(observed)
    wsum = sum(weights)
    expected = [total * w / wsum if wsum else 0.0 for w in weights]
    live = [i for i, w in enumerate(weights) if w > 0]
    if any(observed[i] for i, w in enumerate(weights) if w <= 0):
        return Srm(math.inf, 0.0, expected)
    if total == 0 or len(live) < 2:
        return Srm(0.0, 1.0, expected)
    result = stats.chisquare([observed[i] for i in live], [expected[i] for i in live])
    return Srm(float(result.statistic), float(result.pvalue), expected)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (step-down, monotone); NaN stays NaN."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(len(p), math.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = len(valid)
    order = valid[np.argsort(p[valid], kind="stable")]
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        out[index] = running
    return out.tolist()
