-- Reading signals (reco_svc/reading.py): a story_view's seconds read and how far the child got
-- (percent of the story), kept with the interaction; erased with it (user_id = $1).
ALTER TABLE reco_interactions ADD COLUMN IF NOT EXISTS duration double precision;
ALTER TABLE reco_interactions ADD COLUMN IF NOT EXISTS position real;
