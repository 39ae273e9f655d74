"""Popularity and trending per age group, from the decayed interactions.

Popularity of item j in age group g: the sum of its decayed interaction weights from
children of g, divided by the group's maximum (so 1.0 is the group's favourite).

Trending (like Amazon Personalize's Trending-Now: the items whose interactions grow fastest
between two intervals), per age group g and item j, with undecayed weights:

    recent_j   = weight of interactions in (now - 3 d, now]
    baseline_j = weight of interactions in (now - 3 d - 14 d, now - 3 d]
    expected_j = baseline_j * 3 / 14                      (the baseline rate over 3 days)
    growth_j   = (recent_j - expected_j) / sqrt(expected_j + 5)
    trend_j    = max(growth_j, 0) / max_j' growth_j'       (0 when recent_j < 3)

The square root makes growth a Poisson-like z-score, so a jump from 0 to 1 does not outrank
a jump from 40 to 120; the +5 smooths items with no baseline. `now` is the latest event time
seen (capped at the wall clock), so replayed or simulated data trends as it would live.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reco_svc.interactions import Interaction, decay
from reco_svc.reading import DEFAULT, weight_of

RECENT_DAYS = 3.0
BASELINE_DAYS = 14.0
SMOOTHING = 5.0
MIN_RECENT = 3.0


@dataclass
class GroupCounts:
    popularity: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    recent: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    baseline: dict[str, float] = field(default_factory=lambda: defaultdict(float))


class TrendCounter:
    """Feed interactions with their user's age group; read normalized scores per group."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.recent_start = now - timedelta(days=RECENT_DAYS)
        self.baseline_start = self.recent_start - timedelta(days=BASELINE_DAYS)
        self.groups: dict[str, GroupCounts] = defaultdict(GroupCounts)

    def add(self, interaction: Interaction, group: str) -> None:
        if not group:
            return
        counts = self.groups[group]
        counts.popularity[interaction.key] += decay(weight_of(interaction, DEFAULT), interaction.ts, self.now)
        if self.recent_start < interaction.ts <= self.now:
            counts.recent[interaction.key] += weight_of(interaction, DEFAULT)
        elif self.baseline_start < interaction.ts <= self.recent_start:
            counts.baseline[interaction.key] += weight_of(interaction, DEFAULT)

    def popularity(self, group: str) -> dict[str, float]:
        return _normalized(self.groups[group].popularity) if group in self.groups else {}

    def trending(self, group: str) -> dict[str, float]:
        if group not in self.groups:
            return {}
        counts = self.groups[group]
        growth = {}
        for key, recent in counts.recent.items():
            if recent < MIN_RECENT:
                continue
            expected = counts.baseline.get(key, 0.0) * RECENT_DAYS / BASELINE_DAYS
            score = (recent - expected) / (expected + SMOOTHING) ** 0.5
            if score > 0:
                growth[key] = score
        return _normalized(growth)


def _normalized(values: dict[str, float]) -> dict[str, float]:
    top = max(values.values(), default=0.0)
    return {k: v / top for k, v in values.items()} if top > 0 else {}
