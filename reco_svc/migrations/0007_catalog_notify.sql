-- Every committed change to the catalog or its moderation state sends NOTIFY reco_catalog
-- (store.CATALOG_CHANNEL). NOTIFY is delivered at commit, in commit order, so a replica's
-- live catalog (catalog_state.py) learns of a change even when the poll's fingerprint
-- (count, max(updated_at)) cannot: a transaction that started earlier committing after a
-- later one leaves that maximum where it was.
CREATE OR REPLACE FUNCTION reco_catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('reco_catalog', '');
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER catalog_items_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON catalog_items
    FOR EACH STATEMENT EXECUTE FUNCTION reco_catalog_changed();

CREATE OR REPLACE TRIGGER hidden_items_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON hidden_items
    FOR EACH STATEMENT EXECUTE FUNCTION reco_catalog_changed();
