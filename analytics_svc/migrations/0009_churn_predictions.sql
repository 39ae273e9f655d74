-- Predicted retention (analytics_svc/churn/): the models trained on the schedule and each
-- active child's latest prediction. Written by the training job (churn/job.py), read by the
-- churn_risk report and the dashboard; a child's prediction goes with the child (erasure.py).

-- One row per training run: the fitted models (JSON, churn/evaluation.RetentionModel.to_dict)
-- and what they were trained on. Counts only, no user ids.
CREATE TABLE IF NOT EXISTS churn_models (
    id              bigserial   PRIMARY KEY,
    trained_at      timestamptz NOT NULL DEFAULT now(),
    -- The first day not in the training data (UTC): the predictions are as of its start.
    scored_day      date        NOT NULL,
    train_rows_7d   integer     NOT NULL,
    train_rows_28d  integer     NOT NULL,
    children_scored integer     NOT NULL,
    model           jsonb       NOT NULL
);

-- The latest prediction of each child active in the 28 days before the model's scored_day:
-- replaced wholesale by each run (one transaction).
CREATE TABLE IF NOT EXISTS churn_predictions (
    user_id       text    NOT NULL PRIMARY KEY,
    model_id      bigint  NOT NULL,
    age_group     text    NOT NULL,
    platform      text    NOT NULL,
    device_type   text    NOT NULL,
    -- Monday of the week of the child's first event (UTC).
    cohort_week   date    NOT NULL,
    p_return_7d   real    NOT NULL,
    p_return_28d  real    NOT NULL,
    -- Each feature's push on the logit of p_return_7d against the training average, in the
    -- order of the model's features (churn_models.model->'features').
    factors       real[]  NOT NULL
);
