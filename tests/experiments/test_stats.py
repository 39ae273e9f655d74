"""analytics_svc.experiments.stats against independent computations on the raw per-user values
(numpy, scipy.stats), a published Welch example, and simulated experiments."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from analytics_svc.experiments import stats as st


def moments(y, x=None) -> st.Moments:
    y = np.asarray(y, dtype=float)
    x = np.zeros_like(y) if x is None else np.asarray(x, dtype=float)
    return st.Moments(len(y), y.sum(), (y * y).sum(), x.sum(), (x * x).sum(), (x * y).sum())


# Wikipedia, "Welch's t-test", examples 1 and 2 (Welch: t, degrees of freedom, p).
A1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
A2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
B1 = [17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8]
B2 = [21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8,
      20.7, 21.7, 21.5, 22.5, 23.6, 21.5, 22.5, 23.5, 21.5, 21.8]  # fmt: skip


@pytest.mark.parametrize(
    ("a", "b", "t", "df", "p"), [(A1, A2, -2.46, 24.99, 0.021), (B1, B2, -1.57, 9.91, 0.149)]
)
def test_welch_matches_the_published_example(a, b, t, df, p):
    c = st.compare(st.mean_estimate(moments(a)), st.mean_estimate(moments(b)))
    se = (c.diff_high - c.diff_low) / 2 / stats.t.ppf(0.975, c.df)
    assert -c.diff / se == pytest.approx(t, abs=0.005)
    assert c.df == pytest.approx(df, abs=0.01)
    assert c.p_value == pytest.approx(p, abs=0.0005)


def test_welch_equals_scipy_on_the_raw_values():
    rng = np.random.default_rng(1)
    a, b = rng.normal(10, 3, 400), rng.normal(10.6, 5, 300)
    c = st.compare(st.mean_estimate(moments(a)), st.mean_estimate(moments(b)))
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert c.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert c.df == pytest.approx(ref.df, rel=1e-9)
    low, high = ref.confidence_interval(0.95)
    assert (c.diff_low, c.diff_high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))
    via_stats = stats.ttest_ind_from_stats(
        b.mean(), b.std(ddof=1), len(b), a.mean(), a.std(ddof=1), len(a), equal_var=False
    )
    assert c.p_value == pytest.approx(via_stats.pvalue, rel=1e-9)


def test_relative_lift_and_bayesian_figures_recomputed():
    rng = np.random.default_rng(2)
    a, b = rng.binomial(1, 0.20, 5000), rng.binomial(1, 0.23, 5000)
    c = st.compare(st.mean_estimate(moments(a)), st.mean_estimate(moments(b)))
    ma, mb = a.mean(), b.mean()
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    assert c.lift == pytest.approx(mb / ma - 1)
    # Delta method written out: Var(mb/ma) ≈ vb/ma² + mb²·va/ma⁴.
    se_lift = math.sqrt(vb / ma**2 + mb**2 * va / ma**4)
    assert c.lift_low == pytest.approx(mb / ma - 1 - 1.959963984540054 * se_lift)
    posterior = stats.norm(mb - ma, math.sqrt(va + vb))
    assert c.chance_to_win == pytest.approx(posterior.sf(0))
    loss, _ = integrate.quad(lambda d: -d * posterior.pdf(d), -1, 0)
    assert c.expected_loss == pytest.approx(loss, abs=1e-9)
    decrease = st.compare(st.mean_estimate(moments(a)), st.mean_estimate(moments(b)), goal="decrease")
    assert decrease.chance_to_win == pytest.approx(posterior.cdf(0))


def test_ratio_metric_delta_method_equals_the_linearised_residuals():
    rng = np.random.default_rng(3)
    den = rng.poisson(3, 2000) + 1.0
    num = rng.binomial(den.astype(int), 0.4).astype(float)
    est = st.ratio_estimate(moments(num, den))
    ratio = num.sum() / den.sum()
    assert est.value == pytest.approx(ratio)
    # Linearisation: the ratio behaves as the mean of (num − R·den) / mean(den).
    residual = (num - ratio * den) / den.mean()
    assert est.var == pytest.approx(residual.var(ddof=1), rel=1e-9)


def test_cuped_equals_adjusting_each_user_and_shrinks_the_interval():
    rng = np.random.default_rng(4)
    pre = [rng.normal(5, 2, 3000), rng.normal(5, 2, 3000)]
    post = [0.8 * p + rng.normal(0, 1, 3000) for p in pre]
    post[1] = post[1] + 0.1
    ms = [moments(y, x) for y, x in zip(post, pre, strict=True)]
    adjusted, theta = st.estimates("mean", ms, cuped=True)
    allx, ally = np.concatenate(pre), np.concatenate(post)
    ref_theta = np.cov(allx, ally, ddof=1)[0, 1] / allx.var(ddof=1)
    assert theta == pytest.approx(ref_theta)
    for est, y, x in zip(adjusted, post, pre, strict=True):
        y_adj = y - ref_theta * (x - allx.mean())
        assert est.value == pytest.approx(y_adj.mean())
        assert est.var == pytest.approx(y_adj.var(ddof=1))
    plain, _ = st.estimates("mean", ms)
    with_cuped = st.compare(*adjusted)
    without = st.compare(*plain)
    assert with_cuped.diff_high - with_cuped.diff_low < 0.7 * (without.diff_high - without.diff_low)


def test_sequential_halfwidth_is_the_normal_mixture_boundary():
    se, n, alpha, tuning = 0.02, 8000, 0.05, 5000
    rho2 = (-2 * np.log(alpha) + np.log(-2 * np.log(alpha) + 1)) / tuning
    # Howard et al. (2021), eq. 14: |S_n| < sqrt((n·ρ² + 1)/ρ² · 2·log(sqrt(n·ρ² + 1)/α)) for a sum S_n of
    # n terms of unit variance; divided by n and scaled by the per-unit σ = se·sqrt(n) it bounds the mean.
    sigma = se * np.sqrt(n)
    bound = np.sqrt((n * rho2 + 1) / rho2 * 2 * np.log(np.sqrt(n * rho2 + 1) / alpha)) * sigma / n
    assert st.sequential_halfwidth(se, n, alpha, tuning) == pytest.approx(bound)
    assert st.sequential_halfwidth(se, n) > stats.norm.ppf(0.975) * se  # wider than fixed-horizon


def test_a_known_lift_is_found_with_its_sign_and_covered():
    rng = np.random.default_rng(5)
    truth = 0.03
    a, b = rng.binomial(1, 0.30, 20000), rng.binomial(1, 0.30 + truth, 20000)
    c = st.compare(st.mean_estimate(moments(a)), st.mean_estimate(moments(b)))
    assert c.diff > 0 and c.p_value < 0.05 and c.sequential_significant
    assert c.diff_low <= truth <= c.diff_high
    assert c.seq_low <= truth <= c.seq_high
    assert c.lift_low <= truth / 0.30 <= c.lift_high


def _aa_moments(rng, n, p):
    conversions = rng.binomial(n, p)  # a 0/1 metric: Σy = Σy² = conversions
    return st.Moments(n, float(conversions), float(conversions))


def test_false_positive_rate_of_aa_experiments_is_near_five_percent():
    rng = np.random.default_rng(6)
    runs = 1000
    positives = sum(
        st.compare(
            st.mean_estimate(_aa_moments(rng, 2000, 0.2)), st.mean_estimate(_aa_moments(rng, 2000, 0.2))
        ).p_value
        < 0.05
        for _ in range(runs)
    )
    assert 0.02 <= positives / runs <= 0.09


def test_peeking_every_day_keeps_the_confidence_sequence_below_alpha():
    rng = np.random.default_rng(7)
    runs, looks, per_look = 300, 20, 250
    fixed_hits = seq_hits = 0
    for _ in range(runs):
        a = rng.binomial(per_look, 0.2, looks).cumsum()
        b = rng.binomial(per_look, 0.2, looks).cumsum()
        fixed = seq = False
        for k in range(looks):
            n = per_look * (k + 1)
            c = st.compare(
                st.mean_estimate(st.Moments(n, a[k], a[k])), st.mean_estimate(st.Moments(n, b[k], b[k]))
            )
            fixed |= c.p_value < 0.05
            seq |= c.sequential_significant
        fixed_hits += fixed
        seq_hits += seq
    assert seq_hits / runs <= 0.05
    assert fixed_hits / runs > 0.10  # why the policy exists: naive peeking inflates errors


def test_srm_flags_a_skewed_split_and_not_a_fair_one():
    skewed = st.srm([5200, 4800], [1, 1])
    assert skewed.mismatch
    assert skewed.p_value == pytest.approx(stats.chisquare([5200, 4800]).pvalue)
    assert skewed.chi2 == pytest.approx(16.0)
    assert not st.srm([5050, 4950], [50, 50]).mismatch
    three = st.srm([2000, 3900, 4100], [20, 40, 40])
    assert three.p_value == pytest.approx(stats.chisquare([2000, 3900, 4100], [2000, 4000, 4000]).pvalue)
    assert st.srm([10, 0, 5], [1, 0, 1]).p_value == pytest.approx(stats.chisquare([10, 5]).pvalue)
    assert st.srm([10, 3, 5], [1, 0, 1]).mismatch  # users in a closed arm


def test_holm_adjustment():
    assert st.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert st.holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])
    out = st.holm([math.nan, 0.02])
    assert math.isnan(out[0]) and out[1] == pytest.approx(0.02)


def test_degenerate_inputs_give_no_numbers():
    c = st.compare(st.mean_estimate(st.Moments(0, 0, 0)), st.mean_estimate(st.Moments(10, 5, 5)))
    assert math.isnan(c.p_value)
    assert math.isnan(st.ratio_estimate(st.Moments(5, 1, 1, 0, 0, 0)).value)
