-- Nightly daily rollups (analytics_svc/rollups.py). Rebuilt per day by delete+insert in
-- one transaction, so re-running a day changes nothing. Dimension columns hold ''
-- when the event did not carry the property, so that they can be part of keys.

-- Which days are rolled up: reports read rollups for these and raw events otherwise.
CREATE TABLE IF NOT EXISTS rollup_days (
    day        date        PRIMARY KEY,
    events     bigint      NOT NULL,
    rolled_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per user, day and device context: DAU/WAU/MAU, stickiness, retention.
CREATE TABLE IF NOT EXISTS daily_user_activity (
    day          date   NOT NULL,
    user_id      text   NOT NULL,
    age_group    text   NOT NULL,
    platform     text   NOT NULL,
    device_type  text   NOT NULL,
    events       int    NOT NULL,
    PRIMARY KEY (day, user_id, age_group, platform, device_type)
);
CREATE INDEX IF NOT EXISTS daily_user_activity_user ON daily_user_activity (user_id, day);

-- Events per day, type and context (events by type, creations per day, splits).
CREATE TABLE IF NOT EXISTS daily_event_counts (
    day          date   NOT NULL,
    event_type   text   NOT NULL,
    age_group    text   NOT NULL,
    platform     text   NOT NULL,
    device_type  text   NOT NULL,
    events       bigint NOT NULL,
    PRIMARY KEY (day, event_type, age_group, platform, device_type)
);

-- Content used in story creations: kind is universe, character, theme, moral_lesson or
-- universe_pair (key "a+b" with a < b).
CREATE TABLE IF NOT EXISTS daily_content (
    day          date   NOT NULL,
    kind         text   NOT NULL,
    key          text   NOT NULL,
    age_group    text   NOT NULL,
    platform     text   NOT NULL,
    device_type  text   NOT NULL,
    uses         bigint NOT NULL,
    PRIMARY KEY (day, kind, key, age_group, platform, device_type)
);

-- Every creation_time of the day, per context: medians are not additive, so the
-- values themselves are kept (compactly, as one array per row).
CREATE TABLE IF NOT EXISTS daily_creation_times (
    day          date   NOT NULL,
    age_group    text   NOT NULL,
    platform     text   NOT NULL,
    device_type  text   NOT NULL,
    times        real[] NOT NULL,
    PRIMARY KEY (day, age_group, platform, device_type)
);

-- First time each user did each event type ('*' = any event), with the context of that
-- event: retention cohorts. Maintained as events are processed (realtime.py) and
-- re-derived by the rollup (LEAST, so it is idempotent).
CREATE TABLE IF NOT EXISTS user_first_events (
    user_id      text        NOT NULL,
    event_type   text        NOT NULL,
    first_ts     timestamptz NOT NULL,
    age_group    text        NOT NULL,
    platform     text        NOT NULL,
    device_type  text        NOT NULL,
    PRIMARY KEY (user_id, event_type)
);
CREATE INDEX IF NOT EXISTS user_first_events_type_ts ON user_first_events (event_type, first_ts);

-- Funnels and engagement filter raw events by type and time.
CREATE INDEX IF NOT EXISTS events_type_ts ON events (event_type, ts);
