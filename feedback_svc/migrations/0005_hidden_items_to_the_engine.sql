-- What is hidden is the recommendation engine's table (reco_svc/migrations), kept from the
-- "catalog.visibility" messages this service publishes; the feedback service keeps its
-- moderation queue. 0001 created hidden_items here too, when the services shared one
-- database: on a database where the engine's migrations have not run, it is dropped
-- (in a shared database it is the engine's, and stays).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM schema_migrations WHERE component = 'reco') THEN
        DROP TABLE IF EXISTS hidden_items;
    END IF;
END
$$;
