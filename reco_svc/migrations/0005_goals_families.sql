-- Educational goals a parent sets for a child (reco_svc/goals.py): one row per goal. The child is
-- the pseudonymous user id; a goal is a moral lesson id or a skill id. Erased with the user.
CREATE TABLE IF NOT EXISTS reco_goals (
    user_id  text        NOT NULL,
    goal     text        NOT NULL,
    set_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, goal)
);

-- Between families (reco_svc/families.py), fed from story_shared and story_completed events.
-- A story its author chose to share: the sharer is kept to check it is the story's creator and
-- to erase it with the user; never shown.
CREATE TABLE IF NOT EXISTS reco_story_shares (
    story_id   text        NOT NULL,
    user_id    text        NOT NULL,
    shared_at  timestamptz NOT NULL,
    PRIMARY KEY (story_id, user_id)
);

CREATE INDEX IF NOT EXISTS reco_story_shares_user ON reco_story_shares (user_id);

-- A family whose child loved a story (read it to the end, or shared it), once per (story, family).
CREATE TABLE IF NOT EXISTS reco_family_loves (
    story_id   text        NOT NULL,
    user_id    text        NOT NULL,
    age_group  text        NOT NULL,
    loved_at   timestamptz NOT NULL,
    PRIMARY KEY (story_id, user_id)
);

CREATE INDEX IF NOT EXISTS reco_family_loves_user ON reco_family_loves (user_id);
CREATE INDEX IF NOT EXISTS reco_family_loves_group ON reco_family_loves (age_group, story_id);
