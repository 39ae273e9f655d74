"""A seeded history whose hidden return propensity is known, for evaluating predicted retention.

`RetentionSimulation` runs the ordinary behaviour model (behaviour.py: the same sessions,
story funnel, recommendations and feedback) but decides who comes back with a hidden model
that depends on what happened to the child:

- a daily return probability: the user's `base_return` decayed with account age (as in the
  ordinary simulation), moved on the logit scale by a hidden *satisfaction*, the age group
  and the device, and boosted at weekends;
- satisfaction, updated on each active day and forgetting the past geometrically: completed
  and shared stories and good ratings raise it, stories abandoned before creation, stories
  not read to the end and poor ratings lower it, evening ("bedtime") stories raise it a little;
- a permanent drop-out after each active day (as in BG/NBD), likelier after bad days.

Given the hidden state at the start of a day (alive, satisfaction), the probability of at
least one active day within the next K days is exact: while no active day happens the state
does not change, so P(no return) = prod over the K days of (1 - p_day). `truth(day, K)` gives
that probability for every user: what a retention model should recover.

Feedback entries carry a `sentiment_score` (the app may send one; the feedback service keeps
a client's score), drawn around the rating.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from simulator.behaviour import DayBatch, SimConfig, Simulation
from simulator.population import User

# Logit shifts of the daily return probability.
AGE_EFFECT = {"3-5": 0.10, "6-8": 0.20, "9-12": 0.0, "13-17": -0.45}
DEVICE_EFFECT = {"tablet": 0.10, "phone": 0.0, "desktop": -0.15, "tv": -0.35, "other": -0.2}
SATISFACTION_WEIGHT = 0.7  # logit per unit of satisfaction
MEMORY = 0.75  # share of satisfaction kept from one active day to the next
DROPOUT = 0.05  # drop-out chance after an active day at satisfaction 0
DROPOUT_WEIGHT = 0.8  # logit of the drop-out chance per unit of satisfaction (negative direction)
EVENING_HOUR = 19  # sessions starting at or after this hour (UTC) count as bedtime reading
# A Monday, so that weeks of the history are calendar weeks.
DEFAULT_START = date(2026, 1, 5)


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


@dataclass
class Hidden:
    alive: bool = True
    satisfaction: float = 0.0


def day_experience(events: list[dict], feedback: list[dict]) -> float:
    """The change in satisfaction one active day brings (before the geometric forgetting)."""
    kinds: dict[str, int] = {}
    evening = 0
    for e in events:
        kinds[e["event_type"]] = kinds.get(e["event_type"], 0) + 1
        if e["event_type"] == "session_start" and int(e["timestamp"][11:13]) >= EVENING_HOUR:
            evening += 1
    started = kinds.get("story_started", 0)
    created = kinds.get("story_creation", 0)
    completed = kinds.get("story_completed", 0)
    delta = (
        0.35 * completed
        + 0.25 * kinds.get("story_shared", 0)
        - 0.45 * (started - created)
        - 0.25 * max(created - completed, 0)
        + 0.08 * kinds.get("recommendation_clicked", 0)
        + 0.10 * evening
    )
    delta += sum(0.30 * (f["rating"] - 3) for f in feedback)
    return delta


class RetentionSimulation(Simulation):
    """The ordinary simulation with the hidden return model above deciding who comes back."""

    def __init__(
        self,
        users: int,
        days: int,
        seed: int,
        start_date: date = DEFAULT_START,
        config: SimConfig | None = None,
    ) -> None:
        now = datetime.combine(start_date + timedelta(days=days), datetime.min.time(), UTC)
        super().__init__(users, days, seed, start_date, now, config)
        self.hidden = {u.index: Hidden() for u in self.population}
        self._truth_rng = random.Random(f"{seed}:retention")
        self._snapshots: dict[int, dict[int, Hidden]] = {}
        self._snapshot_days: set[int] = set()

    # -- the hidden return model --------------------------------------------------------

    def daily_return(self, user: User, offset: int, state: Hidden) -> float:
        """P(active on day `offset`) for a living user in `state` (0 on or before sign-up)."""
        if offset <= user.signup_day:
            return 0.0
        c = self.config
        account_age = offset - user.signup_day
        decay = c.retention_floor + (1 - c.retention_floor) * math.exp(-(account_age - 1) / c.retention_days)
        z = (
            logit(user.base_return * decay)
            + SATISFACTION_WEIGHT * state.satisfaction
            + AGE_EFFECT[user.age_group.key]
            + DEVICE_EFFECT.get(user.device_type, 0.0)
        )
        p = sigmoid(z)
        if (self.start_date + timedelta(days=offset)).weekday() >= 5:
            p *= c.weekend_boost
        return min(p, 0.98)

    def truth(self, offset: int, horizon: int) -> dict[str, float]:
        """user_id -> the exact P(at least one active day in days offset..offset+horizon-1),
        from the hidden state at the start of day `offset` (recorded while running)."""
        states = self._snapshots[offset]
        out = {}
        for user in self.population:
            state = states[user.index]
            if not state.alive:
                out[user.user_id] = 0.0
                continue
            stay_away = 1.0
            for d in range(offset, offset + horizon):
                stay_away *= 1.0 - self.daily_return(user, d, state)
            out[user.user_id] = 1.0 - stay_away
        return out

    def record_truth_at(self, *offsets: int) -> None:
        """Keep the hidden state at the start of these days (call before `run`)."""
        self._snapshot_days.update(offsets)

    # -- hooks into the ordinary simulation ---------------------------------------------

    def _active(self, user: User, offset: int, day: date) -> bool:
        if offset in self._snapshot_days:
            snap = self._snapshots.setdefault(offset, {})
            if user.index not in snap:
                state = self.hidden[user.index]
                snap[user.index] = Hidden(state.alive, state.satisfaction)
        if offset < user.signup_day:
            return False
        if offset == user.signup_day:
            return True
        state = self.hidden[user.index]
        if not state.alive:
            return False
        return self._rngs[user.index].random() < self.daily_return(user, offset, state)

    def _user_day(self, user: User, offset: int, day_start: datetime, out: DayBatch) -> None:
        n_events, n_feedback = len(out.events), len(out.feedback)
        super()._user_day(user, offset, day_start, out)
        feedback = out.feedback[n_feedback:]
        rng = self._truth_rng
        for entry in feedback:
            score = (entry["rating"] - 3) / 2.5 + rng.gauss(0.0, 0.2)
            entry["sentiment_score"] = round(min(1.0, max(-1.0, score)), 3)
        state = self.hidden[user.index]
        state.satisfaction = MEMORY * state.satisfaction + day_experience(out.events[n_events:], feedback)
        state.satisfaction = min(3.0, max(-3.0, state.satisfaction))
        dropout = sigmoid(logit(DROPOUT) - DROPOUT_WEIGHT * state.satisfaction)
        if rng.random() < dropout:
            state.alive = False


@dataclass
class History:
    """A generated history: events and feedback in time order, and the simulation (for `truth`)."""

    events: list[dict]
    feedback: list[dict]
    simulation: RetentionSimulation

    @property
    def start_date(self) -> date:
        return self.simulation.start_date


def retention_history(
    users: int, weeks: int, seed: int, truth_days: tuple[int, ...] = (), start_date: date = DEFAULT_START
) -> History:
    """`weeks` weeks of seeded history; the hidden state is recorded at the start of `truth_days`."""
    sim = RetentionSimulation(users, weeks * 7, seed, start_date)
    sim.record_truth_at(*truth_days)
    events: list[dict] = []
    feedback: list[dict] = []
    for batch in sim.run():
        events.extend(batch.events)
        feedback.extend(batch.feedback)
    return History(events, feedback, sim)
