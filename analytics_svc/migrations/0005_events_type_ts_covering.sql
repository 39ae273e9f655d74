-- Funnels read a month of step events by type and time; with user_id and event_id in
-- the index they come from an index-only scan instead of ~1 M heap fetches (3x faster
-- on the benchmark). Replaces events_type_ts. On a large table, create the index
-- CONCURRENTLY by hand before deploying (this migration then only drops the old one).
CREATE INDEX IF NOT EXISTS events_type_ts_cover ON events (event_type, ts) INCLUDE (user_id, event_id);
DROP INDEX IF EXISTS events_type_ts;
