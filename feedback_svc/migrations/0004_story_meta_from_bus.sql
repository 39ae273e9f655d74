-- story_meta is the feedback service's own copy of story metadata, filled from the
-- story_creation events on the bus (stories.py), not read from another service's table.
-- creator_id: whose story it is, so that an erasure reaches the copy (a child's own stories
-- are the child's data); created_ts: the creation event's time (the earliest one wins).
-- Rows copied before this migration have neither.
ALTER TABLE story_meta ADD COLUMN IF NOT EXISTS creator_id text;
ALTER TABLE story_meta ADD COLUMN IF NOT EXISTS created_ts timestamptz;
CREATE INDEX IF NOT EXISTS story_meta_creator ON story_meta (creator_id) WHERE creator_id IS NOT NULL;
