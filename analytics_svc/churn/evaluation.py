"""Training on the weeks before a cut-off, and the time-split evaluation beside the baselines.

Training rows: the active children at cut-offs every STEP days, back from the last one whose
label window (7 or 28 days) ends by the training end, pooled; label = any event in the window.
The model: logistic.fit_two_part (a "still around" gate times a "comes back" logistic).
The evaluation trains on weeks 1..n only (the activity cut at day 7n), predicts from the
cut-off 7n, and scores the outcome of week n+1 (and of the 28 days from the cut-off).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from analytics_svc.churn import logistic
from analytics_svc.churn.activity import DailyActivity
from analytics_svc.churn.features import FEATURES, LOOKBACK, Snapshot, returned, snapshot
from analytics_svc.churn.metrics import calibration_error, pr_auc, roc_auc, spearman
from analytics_svc.churn.rf_rule import rf_score

HORIZONS = (7, 28)
MIN_HISTORY = 14  # days of history before the first training cut-off
STEP = 3  # days between training cut-offs (3 scored a little better than 7 on seeds 1-3)


def truncate(activity: DailyActivity, end: int) -> DailyActivity:
    """The activity before day `end` only (what was known then)."""
    return replace(activity, counts=activity.counts[:, :end])


def training_cutoffs(end: int, horizon: int) -> list[int]:
    """Cut-offs every STEP days back from `end - horizon` (label windows ending by `end`), newest first."""
    cutoffs = list(range(end - horizon, MIN_HISTORY - 1, -STEP))
    if not cutoffs and end - horizon >= 1:
        cutoffs = [end - horizon]
    return cutoffs


def training_set(
    activity: DailyActivity, end: int, horizon: int, snapshots: dict[int, Snapshot] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Pooled (X, y) from the cut-offs whose label window ends by `end`."""
    snapshots = {} if snapshots is None else snapshots
    xs, ys = [], []
    for c in training_cutoffs(end, horizon):
        if c not in snapshots:
            snapshots[c] = snapshot(activity, c)
        snap = snapshots[c]
        xs.append(snap.X(horizon))
        ys.append(returned(activity, snap.users, c, horizon))
    if not xs:
        return np.zeros((0, len(FEATURES))), np.zeros(0)
    return np.vstack(xs), np.concatenate(ys)


@dataclass
class RetentionModel:
    """One logistic model per horizon (days), trained on activity before `trained_until`."""

    models: dict[int, logistic.TwoPartModel | logistic.LogisticModel]
    trained_until: int
    rows: dict[int, int]

    def predict(self, snap: Snapshot) -> dict[int, np.ndarray]:
        return {h: m.predict(snap.X(h)) for h, m in self.models.items()}

    def to_dict(self) -> dict:
        return {
            "features": list(FEATURES),
            "trained_until": self.trained_until,
            "rows": {str(h): n for h, n in self.rows.items()},
            "models": {str(h): m.to_dict() for h, m in self.models.items()},
        }

    @classmethod
    def from_dict(cls, d: dict) -> RetentionModel:
        if list(d["features"]) != list(FEATURES):
            raise ValueError("the model was trained on other features")
        return cls(
            {int(h): logistic.from_dict(m) for h, m in d["models"].items()},
            int(d["trained_until"]),
            {int(h): int(n) for h, n in d["rows"].items()},
        )


def train(
    activity: DailyActivity, end: int | None = None, l2: float = logistic.TWO_PART_L2
) -> RetentionModel:
    """Fits both horizons on the activity before day `end` (default: all of it)."""
    end = activity.days if end is None else end
    known = truncate(activity, end)
    models, rows = {}, {}
    snapshots: dict[int, Snapshot] = {}
    for h in HORIZONS:
        X, y = training_set(known, end, h, snapshots)
        models[h] = logistic.fit_two_part(X, y, FEATURES, l2=l2)
        rows[h] = len(y)
    return RetentionModel(models, end, rows)


def evaluate(
    activity: DailyActivity, train_weeks: int, truth: dict[int, dict[str, float]] | None = None
) -> dict:
    """Train on weeks 1..n, predict from the cut-off 7n; figures for the model and both baselines.

    `truth`, when given (simulated history): horizon -> user_id -> the hidden probability of
    returning; the figures then include each method's rank correlation with it.
    """
    cutoff = train_weeks * 7
    if activity.days < cutoff + max(HORIZONS):
        raise ValueError(f"need {cutoff + max(HORIZONS)} days of activity for {train_weeks} training weeks")
    model = train(activity, cutoff)
    snap = snapshot(activity, cutoff)
    ours = model.predict(snap)
    theirs = {h: snap.bgnbd(h) for h in HORIZONS}
    recency = np.expm1(snap.feature("days_since_last_visit"))
    active_28 = np.expm1(snap.feature("active_days_28"))
    rule = rf_score(recency, active_28)
    out: dict[str, float | int] = {}
    for h in HORIZONS:
        y = returned(activity, snap.users, cutoff, h)
        sfx = "" if h == 7 else f"_{h}"
        out[f"auc{sfx}"] = roc_auc(y, ours[h])
        out[f"pr_auc{sfx}"] = pr_auc(y, ours[h])
        out[f"calibration_error{sfx}"] = calibration_error(y, ours[h])
        out[f"auc_bgnbd{sfx}"] = roc_auc(y, theirs[h])
        out[f"pr_auc_bgnbd{sfx}"] = pr_auc(y, theirs[h])
        out[f"calibration_error_bgnbd{sfx}"] = calibration_error(y, theirs[h])
        out[f"auc_rule{sfx}"] = roc_auc(y, rule)
        out[f"pr_auc_rule{sfx}"] = pr_auc(y, rule)
        out[f"return_rate{sfx}"] = float(y.mean())
        if truth is not None:
            hidden = np.array([truth[h][activity.user_ids[u]] for u in snap.users])
            out[f"spearman_hidden{sfx}"] = spearman(ours[h], hidden)
            out[f"spearman_hidden_bgnbd{sfx}"] = spearman(theirs[h], hidden)
            out[f"spearman_hidden_rule{sfx}"] = spearman(rule, hidden)
    out = {k: round(float(v), 4) for k, v in out.items()}
    out.update(
        {
            "users_scored": len(snap.users),
            "train_rows": model.rows[7],
            "train_rows_28": model.rows[28],
            "train_weeks": train_weeks,
            "lookback_days": LOOKBACK,
        }
    )
    return out
