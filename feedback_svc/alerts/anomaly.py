"""Detecting a sudden drop of ratings against their own baseline.

    test = rating_drop(baseline=[5, 4, 5, ...], recent=[2, 1, 2, 3, 2, 1, 2, 2])
    test.anomalous, test.p_value, test.drop

Ratings are discrete (1..5) and skewed (mostly 4s and 5s, a tail of 1s), so a
normal z-test on means raises far too many false alarms on short windows. The
test here is exact instead: how likely is a mean of the latest `window` ratings
this low if they were drawn from the baseline's own distribution of ratings
(the ratings before them, with a pseudo-count per star so that a never-seen
rating is unlikely, not impossible)? The distribution of the sum of `window`
draws is computed by convolution (at most 5 * window values). An alarm needs
p < `p_threshold` and a drop of at least `min_drop` stars, so a change that is
statistically clear but harmless (a quarter star) does not page anyone.
Pure functions: the alert path feeds them a story's or a combination's series.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

STARS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class DropRule:
    window: int = 10  # latest ratings compared ...
    min_baseline: int = 15  # ... with at least this many before them
    max_baseline: int = 200
    p_threshold: float = 1e-5
    min_drop: float = 1.0  # stars
    pseudo_count: float = 0.5  # per star, added to the baseline's counts


@dataclass(frozen=True)
class DropTest:
    baseline_mean: float
    recent_mean: float
    drop: float
    p_value: float
    anomalous: bool


def lower_tail(distribution: dict[int, float], draws: int, total: int) -> float:
    """P(sum of `draws` independent ratings <= total) for a rating distribution."""
    sums = {0: 1.0}
    for _ in range(draws):
        step: dict[int, float] = {}
        for s, p in sums.items():
            for star, q in distribution.items():
                step[s + star] = step.get(s + star, 0.0) + p * q
        sums = step
    return min(1.0, sum(p for s, p in sums.items() if s <= total))


def rating_drop(
    baseline: Sequence[int], recent: Sequence[int], rule: DropRule = DropRule()
) -> DropTest | None:
    """None when there is too little data to tell."""
    if len(baseline) < rule.min_baseline or len(recent) < rule.window:
        return None
    counts = Counter(baseline)
    mass = len(baseline) + rule.pseudo_count * len(STARS)
    distribution = {star: (counts[star] + rule.pseudo_count) / mass for star in STARS}
    base_mean, recent_mean = fmean(baseline), fmean(recent)
    p_value = lower_tail(distribution, len(recent), sum(recent))
    drop = base_mean - recent_mean
    return DropTest(
        round(base_mean, 3),
        round(recent_mean, 3),
        round(drop, 3),
        p_value,
        p_value < rule.p_threshold and drop >= rule.min_drop,
    )


def check_series(series: Sequence[int], rule: DropRule = DropRule()) -> DropTest | None:
    """The test for the end of a series (oldest first): its last `window` values against
    the ones before them."""
    if len(series) < rule.window:
        return None
    recent = series[-rule.window :]
    baseline = series[-rule.window - rule.max_baseline : -rule.window]
    return rating_drop(baseline, recent, rule)


def alarms(series: Sequence[int], rule: DropRule = DropRule()) -> list[int]:
    """Indices at which check_series would alarm if run after each new value."""
    found = []
    for end in range(rule.window, len(series) + 1):
        test = check_series(series[:end], rule)
        if test is not None and test.anomalous:
            found.append(end - 1)
    return found
