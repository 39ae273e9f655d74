-- Raw user-activity events: the system of record for analytics.
--
-- Not partitioned on purpose: ingestion is idempotent on event_id, which needs a
-- table-wide unique key, and PostgreSQL only allows unique keys that include the
-- partition key. Events arrive nearly in time order, so a BRIN index on ts (a few
-- pages for millions of rows, nearly free to maintain) prunes time ranges for the
-- reports, and the nightly rollups (daily_* tables) answer most dashboard queries.
-- See docs/architecture.md.
CREATE TABLE IF NOT EXISTS events (
    event_id      text        NOT NULL PRIMARY KEY,
    user_id       text        NOT NULL,
    session_id    text,
    event_type    text        NOT NULL,
    ts            timestamptz NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    stored_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    story_id      text,
    universes     text[],
    characters    text[],
    theme         text,
    moral_lesson  text,
    creation_time real,
    device_type   text,
    platform      text,
    age_group     text,
    feature       text,
    -- The other known properties and the allow-listed extras.
    props         jsonb
);

CREATE INDEX IF NOT EXISTS events_ts_brin ON events USING brin (ts) WITH (pages_per_range = 32);
CREATE INDEX IF NOT EXISTS events_stored_at_brin ON events USING brin (stored_at) WITH (pages_per_range = 32);

-- Every rejected event, with its raw payload and the reason: nothing vanishes silently.
CREATE TABLE IF NOT EXISTS failed_events (
    id           bigserial   PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    event_id     text,
    field        text        NOT NULL,
    reason       text        NOT NULL,
    source       text        NOT NULL,
    payload      jsonb       NOT NULL
);

CREATE INDEX IF NOT EXISTS failed_events_received_brin ON failed_events USING brin (received_at);
