-- The recommendation catalog, moderation state and the model registry.
--
-- One table for the five kinds: they share ages, tags and moderation, and the engine
-- reads them all at once. Ages are inclusive years; an item is shown to an age group
-- only when the whole group lies within [min_age, max_age] (reco_svc/age_rules.py).
CREATE TABLE IF NOT EXISTS catalog_items (
    kind          text        NOT NULL CHECK (kind IN ('universe', 'character', 'theme', 'moral_lesson', 'story')),
    item_id       text        NOT NULL,
    name          text        NOT NULL,
    min_age       smallint    NOT NULL CHECK (min_age BETWEEN 0 AND 17),
    max_age       smallint    NOT NULL CHECK (max_age BETWEEN 0 AND 17),
    tags          text[]      NOT NULL DEFAULT '{}',
    -- Characters: their universe (required).
    universe      text,
    -- Stories: what they mix and who created them.
    universes     text[]      NOT NULL DEFAULT '{}',
    characters    text[]      NOT NULL DEFAULT '{}',
    theme         text,
    moral_lesson  text,
    creator_id    text,
    -- demo (shipped catalog, reloaded at start), admin (admin RPCs), events (story_creation).
    source        text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (kind, item_id),
    CHECK (min_age <= max_age),
    CHECK (kind <> 'character' OR universe IS NOT NULL)
);

CREATE INDEX IF NOT EXISTS catalog_items_updated ON catalog_items (updated_at);

-- Moderation: the feedback service hides a story when a safety alert fires (item_type
-- 'story'); admins hide any kind. A row with cleared_at NULL hides the item. The very
-- definition of feedback_svc/migrations/0001_feedback.sql (table and index), so that
-- whichever service migrates first creates what both expect.
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

-- The model registry: files under <data_dir>/models/<version>/, one row per version.
CREATE TABLE IF NOT EXISTS reco_model_versions (
    version       text        PRIMARY KEY,
    created_at    timestamptz NOT NULL DEFAULT now(),
    path          text        NOT NULL,
    metrics       jsonb       NOT NULL DEFAULT '{}',
    description   text        NOT NULL DEFAULT '',
    active        boolean     NOT NULL DEFAULT false,
    activated_at  timestamptz
);

-- At most one active version.
CREATE UNIQUE INDEX IF NOT EXISTS reco_model_versions_one_active ON reco_model_versions (active) WHERE active;
