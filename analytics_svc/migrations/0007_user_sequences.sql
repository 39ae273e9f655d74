-- Per-user rollups for funnels and retention, and creation-time histograms for the
-- dashboard (docs/analytics.md "Where figures come from"). All written by the nightly
-- rollup (analytics_svc/rollups.py), day by day, by delete + insert in the day's
-- transaction. Codes: analytics_svc/queries/codes.py.

-- Which rollup format a day was built with: 2 = these tables are filled for it. Days
-- rolled up before this migration (1) are read from raw events by the readers of the
-- new tables until they are rolled up again.
ALTER TABLE rollup_days ADD COLUMN IF NOT EXISTS version smallint NOT NULL DEFAULT 1;

-- One row per user and day: the day's events, 15 bytes each, big-endian: event type
-- code (1 byte), context code (2 bytes: age_group << 6 | platform << 3 | device_type),
-- position in the user's stream of the day (4 bytes; stream order = ts, then event_id
-- byte order) and microseconds since the epoch (8 bytes). Grouped by type code, each
-- group in stream order; starts[c + 1] = index of the first event of code c (one more
-- element at the end = events), so a reader can take the slices of a few types.
-- Funnels fold these instead of sorting raw events.
-- Deleted with the raw events by the retention job (it is the raw stream, minus properties).
CREATE TABLE IF NOT EXISTS user_day_sequences (
    day      date    NOT NULL,
    user_id  text    NOT NULL,
    events   int     NOT NULL,
    starts   int4[]  NOT NULL,
    seq      bytea   NOT NULL,
    PRIMARY KEY (day, user_id)
);
-- Already compact and incompressible (timestamps): never spend CPU on pglz.
ALTER TABLE user_day_sequences ALTER COLUMN seq SET STORAGE EXTERNAL;
CREATE INDEX IF NOT EXISTS user_day_sequences_user ON user_day_sequences (user_id);

-- The event types a user did on a day (bit 1 << code), next to the day's activity.
-- NULL on days rolled up before this migration.
ALTER TABLE daily_user_activity ADD COLUMN IF NOT EXISTS type_mask int;

-- One row per user: every rolled-up day with activity (int4 days since 1970-01-01,
-- big-endian, ascending) and, in step, that day's type mask (int4, 0 when unknown).
-- Derived from daily_user_activity (which the retention job keeps), rebuilt for the
-- users of each day the rollup touches. Retention reads one row per cohort user.
CREATE TABLE IF NOT EXISTS user_activity (
    user_id  text   PRIMARY KEY,
    days     bytea  NOT NULL,
    masks    bytea  NOT NULL
);

-- creation_time of story creations per day and filter combination ('*' = any value,
-- as daily_active_counts): every distinct stored value (float4, big-endian) with its
-- count (int4), ascending: exact percentiles from ~30 rows instead of every value.
CREATE TABLE IF NOT EXISTS daily_creation_histograms (
    day          date    NOT NULL,
    age_group    text    NOT NULL,
    platform     text    NOT NULL,
    device_type  text    NOT NULL,
    creations    bigint  NOT NULL,
    hist         bytea   NOT NULL,
    PRIMARY KEY (day, age_group, platform, device_type)
);
