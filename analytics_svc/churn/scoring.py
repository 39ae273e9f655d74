"""What the training job computes, without the database: the daily activity from the rows of
store.DAILY_ACTIVITY, both models trained on it, and each active child's predictions.

The service's activity has no feedback channels (ratings, sentiment): those are kept by the
feedback service, whose tables analytics does not read; their features are 0 for everyone and
the model gives them no weight. Everything else is computed as in the offline evaluation
(features.py), so `./storyverse evaluate-retention` measures the model the service runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from analytics_svc.churn.activity import CH, CHANNELS, UNKNOWN, DailyActivity
from analytics_svc.churn.evaluation import RetentionModel, train
from analytics_svc.churn.features import FEATURES, snapshot
from analytics_svc.churn.logistic import TWO_PART_L2

HISTORY_DAYS = 70  # the activity the job reads: 10 weeks (a 28-day label needs 28 + 14 days at least)
_EVENT_CHANNELS = [
    c for c in CHANNELS if c not in ("ratings", "rating_sum", "low_ratings", "sentiments", "sentiment_sum")
]


def activity_from_rows(
    rows: Iterable[Mapping], start: date, days: int
) -> tuple[DailyActivity, list[datetime]]:
    """DailyActivity over [start, start + days) from per-user, per-day rows (ordered by day),
    with each user's last event time. The context (age group, device, platform) is the latest
    the user's events carried."""
    index: dict[str, int] = {}
    cells: list[tuple[int, int, list[float]]] = []
    attrs: list[list[str]] = []
    last: list[datetime] = []
    for r in rows:
        d = (r["day"] - start).days
        if not 0 <= d < days:
            continue
        i = index.get(r["user_id"])
        if i is None:
            i = index[r["user_id"]] = len(attrs)
            attrs.append([UNKNOWN, UNKNOWN, UNKNOWN])
            last.append(r["last_ts"])
        cells.append((i, d, [float(r[c]) for c in _EVENT_CHANNELS]))
        for k, key in enumerate(("age_group", "device_type", "platform")):
            if r[key]:
                attrs[i][k] = r[key]
        last[i] = max(last[i], r["last_ts"])
    counts = np.zeros((len(attrs), days, len(CHANNELS)))
    columns = [CH[c] for c in _EVENT_CHANNELS]
    for i, d, values in cells:
        counts[i, d, columns] = values
    activity = DailyActivity(
        start, list(index), counts, [a[0] for a in attrs], [a[1] for a in attrs], [a[2] for a in attrs]
    )
    return activity, last


@dataclass
class Scores:
    """The model and, for each child active in the LOOKBACK days before the cut-off, its
    predictions and each feature's push on the 7-day logit."""

    model: RetentionModel
    users: list[str]  # user ids
    index: np.ndarray  # their rows in the activity
    p_return: dict[int, np.ndarray]  # horizon -> probabilities
    factors: np.ndarray  # [users, FEATURES]


def score(activity: DailyActivity, l2: float = TWO_PART_L2) -> Scores:
    """Trains both horizons on all the activity and scores the children active before its end.
    ValueError when the history does not hold both outcomes (too short, or too few children)."""
    model = train(activity, activity.days, l2=l2)
    snap = snapshot(activity, activity.days)
    factors = model.models[7].contributions(snap.X(7))
    return Scores(model, [activity.user_ids[u] for u in snap.users], snap.users, model.predict(snap), factors)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def cohort_weeks(
    activity: DailyActivity, index: np.ndarray, first_seen: Mapping[str, datetime]
) -> list[date]:
    """The Monday of each child's first event: from the first-event table, or else (a child
    not there yet) the first active day in the activity."""
    active = activity.active()[index]
    first_day = np.argmax(active, axis=1)
    weeks = []
    for k, u in enumerate(index):
        seen = first_seen.get(activity.user_ids[u])
        day = seen.date() if seen is not None else activity.start + timedelta(days=int(first_day[k]))
        weeks.append(monday(day))
    return weeks


def feature_names() -> tuple[str, ...]:
    return FEATURES
