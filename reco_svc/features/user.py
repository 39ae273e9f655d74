"""One user's real-time features: recent interactions, age group and device.

    features = UserFeatures()
    features.add(facts, interactions)        # keyed by event id: a redelivered event counts once
    features.vector(now)                     # item key -> decayed, compressed weight

Kept per user in a FeatureStore by SharedFeatures (shared.py), updated live from the bus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from reco_svc.interactions import EventFacts, Interaction, compress, decayed, microseconds
from reco_svc.reading import DEFAULT, ReadingWeights, weight_of, with_rereads

MAX_EVENTS_PER_USER = 200


@dataclass
class UserFeatures:
    age_group: str = ""
    device_type: str = ""
    # event_id -> its interactions (keyed by event so that a redelivered event counts once)
    events: dict[str, tuple[Interaction, ...]] = field(default_factory=dict)
    # True once the user's history was read from PostgreSQL; live events may arrive before.
    loaded: bool = False
    last_ts: datetime | None = None
    # vector()'s inputs per reading weights, dropped by add() (events change only through it).
    _terms_by_weights: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def add(self, facts: EventFacts, interactions: list[Interaction]) -> None:
        if facts.event_id in self.events:
            return
        self._terms_by_weights.clear()
        self.events[facts.event_id] = tuple(interactions)
        if self.last_ts is None or facts.ts >= self.last_ts:
            self.last_ts = facts.ts
            self.age_group = facts.age_group or self.age_group
            self.device_type = facts.device_type or self.device_type
        if len(self.events) > MAX_EVENTS_PER_USER:
            oldest = sorted(self.events, key=lambda e: min((i.ts for i in self.events[e]), default=facts.ts))
            for event_id in oldest[: len(self.events) - MAX_EVENTS_PER_USER]:
                del self.events[event_id]

    def after(self, moment: datetime) -> UserFeatures:
        """A copy with only what happened after `moment` (the user's erasure)."""
        kept = UserFeatures(loaded=self.loaded)
        if self.last_ts is not None and self.last_ts > moment:
            kept.age_group, kept.device_type, kept.last_ts = self.age_group, self.device_type, self.last_ts
        kept.events = {
            event_id: interactions
            for event_id, interactions in self.events.items()
            if all(i.ts > moment for i in interactions)
        }
        return kept

    def vector(self, now: datetime, weights: ReadingWeights = DEFAULT) -> dict[str, float]:
        """item key -> log1p(sum of decayed weights); reading signals (re-reads derived from the
        whole history) weighted by `weights`, the scoring model's.

        The same sums, in the same order, as decay(weight_of(i, weights), i.ts, now) over
        with_rereads(interactions); only the decay depends on `now`, so the rest is kept per
        weights until the next add (serving builds a vector on every request)."""
        totals: dict[str, float] = {}
        now_us = microseconds(now)
        for key, weight, ts_us in self._terms(weights):
            totals[key] = totals.get(key, 0.0) + decayed(weight, now_us - ts_us)
        return {key: compress(total) for key, total in totals.items()}

    def _terms(self, weights: ReadingWeights) -> list[tuple[str, float, int]]:
        """(item key, weight before decay, timestamp in microseconds) per interaction, re-reads
        included, in with_rereads' order."""
        terms = self._terms_by_weights.get(weights)
        if terms is None:
            flat = [i for interactions in self.events.values() for i in interactions]
            terms = [(i.key, weight_of(i, weights), microseconds(i.ts)) for i in with_rereads(flat)]
            self._terms_by_weights[weights] = terms
        return terms

    def latest_picks(self) -> list[Interaction]:
        """Interactions, most recent first (reasons prefer what the child did last)."""
        flat = [i for interactions in self.events.values() for i in interactions]
        return sorted(flat, key=lambda i: i.ts, reverse=True)
