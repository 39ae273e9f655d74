-- The engine's own copy of what it learns from, kept by its consumer groups (live.py):
-- interaction events from "analytics.events" and ratings from "feedback.submitted"
-- (event_type 'story_rated', event_id = the feedback id). Training, the bootstrap model and
-- a user's history on first sight read it; the engine reads no other service's table.
CREATE TABLE IF NOT EXISTS reco_interactions (
    event_id            text        PRIMARY KEY,
    user_id             text        NOT NULL,
    event_type          text        NOT NULL,
    ts                  timestamptz NOT NULL,
    story_id            text,
    universes           text[],
    characters          text[],
    theme               text,
    moral_lesson        text,
    age_group           text,
    device_type         text,
    recommendation_type text,
    item_id             text,
    rating              smallint,
    stored_at           timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS reco_interactions_user_ts ON reco_interactions (user_id, ts DESC);
CREATE INDEX IF NOT EXISTS reco_interactions_stored_at ON reco_interactions (stored_at);
CREATE INDEX IF NOT EXISTS reco_interactions_ts ON reco_interactions USING brin (ts);

-- Each user's latest age group, from any event that carries one.
CREATE TABLE IF NOT EXISTS reco_user_age_groups (
    user_id    text        PRIMARY KEY,
    age_group  text        NOT NULL,
    ts         timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS reco_user_age_groups_ts ON reco_user_age_groups (ts);

-- Once, where the engine shares a database with the services it read from before (a
-- deployment from before this migration): what it would have read, 180 days of it. A
-- database of its own has no such tables, and the bus fills these from now on.
DO $$
BEGIN
    IF to_regclass('events') IS NOT NULL THEN
        INSERT INTO reco_interactions (event_id, user_id, event_type, ts, story_id, universes, characters,
                                       theme, moral_lesson, age_group, device_type, recommendation_type,
                                       item_id)
        SELECT event_id, user_id, event_type, ts, story_id, universes, characters, theme, moral_lesson,
               age_group, device_type, props->>'recommendation_type', props->>'item_id'
          FROM events
         WHERE ts >= now() - interval '180 days'
           AND event_type IN ('story_creation', 'story_view', 'story_completed', 'story_shared',
                              'recommendation_clicked')
        ON CONFLICT (event_id) DO NOTHING;
        INSERT INTO reco_user_age_groups (user_id, age_group, ts)
        SELECT DISTINCT ON (user_id) user_id, age_group, ts
          FROM events
         WHERE ts >= now() - interval '180 days' AND age_group IS NOT NULL
         ORDER BY user_id, ts DESC
        ON CONFLICT (user_id) DO NOTHING;
    END IF;
    IF to_regclass('feedback') IS NOT NULL THEN
        INSERT INTO reco_interactions (event_id, user_id, event_type, ts, story_id, age_group, device_type, rating)
        SELECT feedback_id, user_id, 'story_rated', ts, story_id, age_group, device_type, rating
          FROM feedback
         WHERE ts >= now() - interval '180 days'
        ON CONFLICT (event_id) DO NOTHING;
    END IF;
END
$$;
