-- Ratings and comments, their analysis, alerts and moderation.
--
-- Comments are stored already redacted (feedback_svc/redaction.py): the raw text
-- with contact details never reaches this table, its search index or the logs.
CREATE TABLE IF NOT EXISTS feedback (
    feedback_id      text        NOT NULL PRIMARY KEY,
    user_id          text        NOT NULL,
    story_id         text        NOT NULL,
    ts               timestamptz NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    rating           smallint    NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment          text        NOT NULL DEFAULT '',
    redacted         boolean     NOT NULL DEFAULT false,
    categories       text[]      NOT NULL DEFAULT '{}',
    child_age        smallint,
    age_group        text,
    device_type      text,
    platform         text,
    -- Written by the asynchronous analysis.
    sentiment_score  real,
    sentiment_label  text,
    aspects          jsonb       NOT NULL DEFAULT '[]',
    analyzed         boolean     NOT NULL DEFAULT false,
    analyzed_at      timestamptz,
    search           tsvector    GENERATED ALWAYS AS (to_tsvector('english', comment)) STORED
);

CREATE INDEX IF NOT EXISTS feedback_search_gin ON feedback USING gin (search);
-- A story's feedback newest first, and keyset pagination over it.
CREATE INDEX IF NOT EXISTS feedback_story_ts ON feedback (story_id, ts DESC, feedback_id DESC);
CREATE INDEX IF NOT EXISTS feedback_ts ON feedback (ts);
-- The sweeper's work list: rows whose analysis message was lost.
CREATE INDEX IF NOT EXISTS feedback_unanalyzed ON feedback (received_at) WHERE NOT analyzed;

-- Critical alerts. One open alert per (scope, subject, kind); later evidence is
-- appended to feedback_ids instead of raising a new alert.
CREATE TABLE IF NOT EXISTS alerts (
    alert_id      text        NOT NULL PRIMARY KEY,
    kind          text        NOT NULL,
    severity      text        NOT NULL,
    scope         text        NOT NULL DEFAULT 'story',
    subject       text        NOT NULL,
    story_id      text,
    message       text        NOT NULL,
    status        text        NOT NULL DEFAULT 'open',
    feedback_ids  text[]      NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    resolved_at   timestamptz
);

CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_open ON alerts (scope, subject, kind) WHERE status = 'open';
CREATE INDEX IF NOT EXISTS alerts_created ON alerts (created_at DESC);

-- What must not be recommended. The recommendation engine reads the rows with
-- cleared_at IS NULL; "catalog.visibility" bus messages announce each change.
CREATE TABLE IF NOT EXISTS hidden_items (
    id          bigserial   PRIMARY KEY,
    item_type   text        NOT NULL,
    item_id     text        NOT NULL,
    reason      text        NOT NULL,
    hidden_at   timestamptz NOT NULL DEFAULT now(),
    cleared_at  timestamptz
);

CREATE UNIQUE INDEX IF NOT EXISTS hidden_items_current ON hidden_items (item_type, item_id)
    WHERE cleared_at IS NULL;

-- Stories waiting for a moderator, and the decisions taken.
CREATE TABLE IF NOT EXISTS moderation_queue (
    id          bigserial   PRIMARY KEY,
    story_id    text        NOT NULL,
    reason      text        NOT NULL,
    status      text        NOT NULL DEFAULT 'pending',
    alert_ids   text[]      NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    decision    text,
    note        text,
    decided_at  timestamptz
);

CREATE UNIQUE INDEX IF NOT EXISTS moderation_pending ON moderation_queue (story_id) WHERE status = 'pending';

-- Story metadata copied from the analytics story_creation events the first time a
-- story's feedback is analysed, so that quality and suggestions never scan events.
CREATE TABLE IF NOT EXISTS story_meta (
    story_id     text        NOT NULL PRIMARY KEY,
    universes    text[]      NOT NULL DEFAULT '{}',
    characters   text[]      NOT NULL DEFAULT '{}',
    theme        text,
    -- Sorted universes joined by "+": the key of a universe combination.
    combination  text,
    fetched_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS story_meta_combination ON story_meta (combination);
