"""The model's inputs at a cut-off day, from behaviour only, and the labels after it.

Everything is computed from days before `cutoff` (a day index of the DailyActivity): the
model sees nothing of the day it predicts from. "Active children" at a cut-off are those with
an event in the LOOKBACK days before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics_svc.churn import bgnbd
from analytics_svc.churn.activity import CH, DailyActivity

LOOKBACK = 28
MIN_BGNBD = 20  # users with history needed to fit BG/NBD at a cut-off
HALF_LIFE = 7.0  # days, for the recency-weighted sums
VISIT_MEMORY = 0.7  # weight of a visit relative to the next, for the per-visit sums
AGE_GROUPS = ("3-5", "6-8", "9-12", "13-17")
DEVICES = ("tablet", "phone", "desktop", "tv")
PLATFORMS = ("ios", "android", "web")

# name -> what it means (the report's factors quote these names)
NUMERIC = {
    "days_since_last_visit": "log(1 + days since the last active day)",
    "visited_yesterday": "active on the day before the cut-off",
    "visited_last_3_days": "active in the 3 days before the cut-off",
    "account_age": "log(1 + days since the first active day)",
    "active_days_7": "log(1 + active days in the last 7)",
    "active_days_28": "log(1 + active days in the last 28)",
    "visit_rate": "active days / days since the first active day",
    "sessions_per_active_day": "sessions per active day, last 28 days",
    "stories_created_28": "log(1 + stories created in the last 28 days)",
    "completion_rate": "stories read to the end / stories read, last 28 days (smoothed)",
    "abandon_rate": "stories started but not created / started, last 28 days (smoothed)",
    "recent_completed": "stories completed, weighted by recency (half-life 7 days)",
    "recent_abandoned": "stories abandoned before creation, weighted by recency",
    "recent_unfinished": "stories read but not to the end, weighted by recency",
    "recent_shared": "stories shared, weighted by recency",
    "last_day_completed": "stories completed on the last active day",
    "last_day_abandoned": "stories abandoned (started, not created) on the last active day",
    "mean_rating": "mean rating - 3, last 28 days (0 without ratings)",
    "recent_rating": "sum of (rating - 3), weighted by recency",
    "low_ratings_28": "ratings of 1-2 in the last 28 days",
    "has_rated": "rated a story in the last 28 days",
    "sentiment": "mean feedback sentiment, last 28 days (0 without)",
    "evening_share": "share of sessions started in the evening, last 28 days",
    "clicks_per_session": "recommendation clicks per session, last 28 days",
    # By visit rather than by calendar day: each active day counts VISIT_MEMORY times as much
    # as the next one, however many days lie between them (the last few visits' experience).
    "visits_completed": "stories completed over the last visits (a visit weighs VISIT_MEMORY x the next)",
    "visits_shared": "stories shared over the last visits",
    "visits_abandoned": "stories started but not created over the last visits",
    "visits_unfinished": "stories created but not read to the end over the last visits",
    "visits_clicks": "recommendation clicks over the last visits",
    "visits_evening": "evening sessions over the last visits",
    "visits_rating": "sum of (rating - 3) over the last visits",
    "visits_sentiment": "sum of feedback sentiment over the last visits",
    # How the gaps between visits move: widening gaps before a stop.
    "last_gap": "log(1 + days between the last two active days); 0 with one active day",
    "gap_trend": "last gap - mean gap between active days before it (days, 0 without two gaps)",
    # The silence since the last visit measured against the child's own pace.
    "pace": "visits after the first / days from the first to the last visit (0 with one visit)",
    "missed_visits": "days since the last visit x pace: visits the child's pace expected meanwhile",
    "silence_surprise": "log P(no visit since the last one) at the child's pace, each day alike",
}
# BG/NBD fitted on everyone's history before the cut-off (bgnbd.py), as two more inputs
BGNBD = {
    "bgnbd_p_alive": "logit of BG/NBD's P(alive)",
    "bgnbd_p_return": "logit of BG/NBD's P(return within the horizon)",
}
CATEGORICAL = (
    [f"age_group={g}" for g in AGE_GROUPS]
    + [f"device={d}" for d in DEVICES]
    + [f"platform={p}" for p in PLATFORMS]
)
FEATURES = tuple(NUMERIC) + tuple(CATEGORICAL) + tuple(BGNBD)
DESCRIPTIONS = {**NUMERIC, **{c: c.replace("=", " ") for c in CATEGORICAL}, **BGNBD}


@dataclass
class Snapshot:
    """The active children at a cut-off: their row indices in the activity and their features."""

    cutoff: int
    users: np.ndarray  # int indices into DailyActivity.user_ids
    behaviour: np.ndarray  # [len(users), len(FEATURES) - 2]: all but the BG/NBD inputs
    stats: tuple[np.ndarray, np.ndarray, np.ndarray]  # BG/NBD's (x, t_x, T) of these users
    params: bgnbd.Params | None  # BG/NBD fitted on everyone active before the cut-off

    def bgnbd(self, horizon: int) -> np.ndarray:
        """BG/NBD's P(return within `horizon` days) for these users."""
        if self.params is None:
            return np.zeros(len(self.users))
        return bgnbd.p_return_within(self.params, *self.stats, horizon)

    def X(self, horizon: int) -> np.ndarray:
        """[len(users), len(FEATURES)] for a model of this horizon."""
        if self.params is None:
            return np.column_stack([self.behaviour, np.zeros((len(self.users), 2))])
        alive = np.clip(bgnbd.p_alive(self.params, *self.stats), 1e-6, 1 - 1e-6)
        back = np.clip(self.bgnbd(horizon), 1e-6, 1 - 1e-6)
        return np.column_stack([self.behaviour, np.log(alive / (1 - alive)), np.log(back / (1 - back))])

    def feature(self, name: str) -> np.ndarray:
        return self.behaviour[:, FEATURES.index(name)]


def eligible(activity: DailyActivity, cutoff: int, lookback: int = LOOKBACK) -> np.ndarray:
    active = activity.active()
    return np.flatnonzero(active[:, max(cutoff - lookback, 0) : cutoff].any(axis=1))


def _last_active(active: np.ndarray) -> np.ndarray:
    """Index of the last True per row (-1 when none)."""
    days = active.shape[1]
    rev = np.argmax(active[:, ::-1], axis=1)
    return np.where(active.any(axis=1), days - 1 - rev, -1)


def _first_active(active: np.ndarray) -> np.ndarray:
    return np.where(active.any(axis=1), np.argmax(active, axis=1), -1)


def snapshot(activity: DailyActivity, cutoff: int, lookback: int = LOOKBACK) -> Snapshot:
    users = eligible(activity, cutoff, lookback)
    counts = activity.counts[users, :cutoff]
    active = counts[:, :, CH["events"]] > 0
    n = len(users)
    cols: dict[str, np.ndarray] = {}
    last = _last_active(active)
    first = _first_active(active)
    recency = cutoff - last  # >= 1
    cols["days_since_last_visit"] = np.log1p(recency)
    cols["visited_yesterday"] = (recency == 1).astype(float)
    cols["visited_last_3_days"] = (recency <= 3).astype(float)
    tenure = cutoff - first
    cols["account_age"] = np.log1p(tenure)
    cols["active_days_7"] = np.log1p(active[:, max(cutoff - 7, 0) :].sum(axis=1))
    window = counts[:, max(cutoff - lookback, 0) :]
    w_active = window[:, :, CH["events"]] > 0
    active_28 = w_active.sum(axis=1)
    cols["active_days_28"] = np.log1p(active_28)
    cols["visit_rate"] = active.sum(axis=1) / np.maximum(tenure, 1)
    total = window.sum(axis=1)  # [n, channels]

    def ch(name: str) -> np.ndarray:
        return total[:, CH[name]]

    cols["sessions_per_active_day"] = ch("sessions") / np.maximum(active_28, 1)
    cols["stories_created_28"] = np.log1p(ch("stories_created"))
    cols["completion_rate"] = (ch("stories_completed") + 0.7) / (ch("stories_viewed") + 1.0)
    cols["abandon_rate"] = (ch("stories_started") - ch("stories_created") + 0.2) / (
        ch("stories_started") + 1.0
    )
    age = cutoff - 1 - np.arange(cutoff - window.shape[1], cutoff)
    weight = 0.5 ** (age / HALF_LIFE)

    def recent(values: np.ndarray) -> np.ndarray:
        return values @ weight

    def wch(name: str) -> np.ndarray:
        return window[:, :, CH[name]]

    cols["recent_completed"] = recent(wch("stories_completed"))
    cols["recent_abandoned"] = recent(wch("stories_started") - wch("stories_created"))
    cols["recent_unfinished"] = recent(np.maximum(wch("stories_viewed") - wch("stories_completed"), 0))
    cols["recent_shared"] = recent(wch("stories_shared"))
    last_day = counts[np.arange(n), np.maximum(last, 0)]
    cols["last_day_completed"] = last_day[:, CH["stories_completed"]]
    cols["last_day_abandoned"] = last_day[:, CH["stories_started"]] - last_day[:, CH["stories_created"]]
    ratings = ch("ratings")
    cols["mean_rating"] = np.where(ratings > 0, ch("rating_sum") / np.maximum(ratings, 1) - 3.0, 0.0)
    cols["recent_rating"] = recent(wch("rating_sum") - 3.0 * wch("ratings"))
    cols["low_ratings_28"] = ch("low_ratings")
    cols["has_rated"] = (ratings > 0).astype(float)
    sentiments = ch("sentiments")
    cols["sentiment"] = np.where(sentiments > 0, ch("sentiment_sum") / np.maximum(sentiments, 1), 0.0)
    cols["evening_share"] = ch("evening_sessions") / np.maximum(ch("sessions"), 1)
    cols["clicks_per_session"] = ch("recommendation_clicks") / np.maximum(ch("sessions"), 1)
    visits = active.sum(axis=1)
    rate = np.where(visits > 1, (visits - 1) / np.maximum(last - first, 1), 0.0)
    cols["pace"] = rate
    cols["missed_visits"] = (recency - 1) * rate
    cols["silence_surprise"] = (recency - 1) * np.log(1.0 - np.clip(rate, 0.0, 0.95))
    _visit_features(cols, counts, active)
    _gap_features(cols, active)
    for name in CATEGORICAL:
        attr, value = name.split("=")
        sources = {"age_group": activity.age_group, "device": activity.device_type}
        source = sources.get(attr, activity.platform)
        cols[name] = np.array([source[u] == value for u in users], dtype=float)
    names = FEATURES[:-2]
    X = np.column_stack([cols[name] for name in names]) if n else np.zeros((0, len(names)))
    everyone, x, t_x, T = sufficient_stats(activity, cutoff)
    params = bgnbd.fit(x, t_x, T) if len(everyone) >= MIN_BGNBD else None
    pick = np.searchsorted(everyone, users)  # every eligible user is in `everyone` (sorted)
    return Snapshot(cutoff, users, X, (x[pick], t_x[pick], T[pick]), params)


def per_visit(values: np.ndarray, active: np.ndarray, memory: float = VISIT_MEMORY) -> np.ndarray:
    """[n] sum over active days of values x memory ** (active days after it)."""
    total = np.zeros(values.shape[0])
    for d in range(values.shape[1]):
        total = np.where(active[:, d], memory * total + values[:, d], total)
    return total


def _visit_features(cols: dict[str, np.ndarray], counts: np.ndarray, active: np.ndarray) -> None:
    def c(name: str) -> np.ndarray:
        return counts[:, :, CH[name]]

    cols["visits_completed"] = per_visit(c("stories_completed"), active)
    cols["visits_shared"] = per_visit(c("stories_shared"), active)
    cols["visits_abandoned"] = per_visit(c("stories_started") - c("stories_created"), active)
    cols["visits_unfinished"] = per_visit(
        np.maximum(c("stories_created") - c("stories_completed"), 0), active
    )
    cols["visits_clicks"] = per_visit(c("recommendation_clicks"), active)
    cols["visits_evening"] = per_visit(c("evening_sessions"), active)
    cols["visits_rating"] = per_visit(c("rating_sum") - 3.0 * c("ratings"), active)
    cols["visits_sentiment"] = per_visit(c("sentiment_sum"), active)


def _gap_features(cols: dict[str, np.ndarray], active: np.ndarray) -> None:
    """The last gap between active days, and how it compares with the earlier ones."""
    n = active.shape[0]
    last_gap = np.zeros(n)
    trend = np.zeros(n)
    for i in range(n):
        days = np.flatnonzero(active[i])
        if len(days) >= 2:
            gaps = np.diff(days)
            last_gap[i] = np.log1p(gaps[-1])
            if len(gaps) >= 2:
                trend[i] = gaps[-1] - gaps[:-1].mean()
    cols["last_gap"] = last_gap
    cols["gap_trend"] = trend


def returned(activity: DailyActivity, users: np.ndarray, cutoff: int, horizon: int) -> np.ndarray:
    """1.0 where the user has an event in days cutoff .. cutoff + horizon - 1."""
    return activity.active()[users, cutoff : cutoff + horizon].any(axis=1).astype(float)


def sufficient_stats(
    activity: DailyActivity, cutoff: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """BG/NBD's (x, t_x, T) in days for every user active before the cut-off, with their indices.

    A "transaction" is an active day: x = active days after the first, t_x = last - first,
    T = cutoff - first.
    """
    active = activity.active()[:, :cutoff]
    users = np.flatnonzero(active.any(axis=1))
    active = active[users]
    first, last = _first_active(active), _last_active(active)
    x = active.sum(axis=1) - 1.0
    return users, x, (last - first).astype(float), (cutoff - first).astype(float)
