"""Detecting a sudden drop of ratings against their own baseline.

    test = rating_drop(baseline=[5, 4, 5, ...], recent=[2, 1, 2, 3, 2])
    test.anomalous, test.z, test.drop

A two-sample z-test on means: the latest `window` ratings against the ratings
before them. Ratings are bounded (1..5) and clumpy, so the baseline's standard
deviation has a floor (a story rated 5 by everyone must not alarm at one 4), the
test needs enough data on both sides, and the drop must also matter in stars,
not only statistically. Pure functions: the alert path feeds them a story's or
a combination's series from the database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean, pstdev


@dataclass(frozen=True)
class DropRule:
    window: int = 8  # latest ratings compared ...
    min_baseline: int = 15  # ... with at least this many before them
    max_baseline: int = 200
    z_threshold: float = 3.0  # one-sided: about 1 false alarm in 740 checks of a stable series
    min_drop: float = 1.0  # stars
    sd_floor: float = 0.6


@dataclass(frozen=True)
class DropTest:
    baseline_mean: float
    recent_mean: float
    z: float
    drop: float
    anomalous: bool


def rating_drop(
    baseline: Sequence[float], recent: Sequence[float], rule: DropRule = DropRule()
) -> DropTest | None:
    """None when there is too little data to tell."""
    if len(baseline) < rule.min_baseline or len(recent) < rule.window:
        return None
    base_mean, recent_mean = fmean(baseline), fmean(recent)
    sd = max(pstdev(baseline), rule.sd_floor)
    se = sd * math.sqrt(1 / len(recent) + 1 / len(baseline))
    z = (recent_mean - base_mean) / se
    drop = base_mean - recent_mean
    return DropTest(
        round(base_mean, 3),
        round(recent_mean, 3),
        round(z, 3),
        round(drop, 3),
        z <= -rule.z_threshold and drop >= rule.min_drop,
    )


def check_series(series: Sequence[float], rule: DropRule = DropRule()) -> DropTest | None:
    """The test for the end of a series (oldest first): its last `window` values against
    the ones before them."""
    if len(series) < rule.window:
        return None
    recent = series[-rule.window :]
    baseline = series[-rule.window - rule.max_baseline : -rule.window]
    return rating_drop(baseline, recent, rule)


def alarms(series: Sequence[float], rule: DropRule = DropRule()) -> list[int]:
    """Indices at which check_series would alarm if run after each new value."""
    found = []
    for end in range(rule.window, len(series) + 1):
        test = check_series(series[:end], rule)
        if test is not None and test.anomalous:
            found.append(end - 1)
    return found
