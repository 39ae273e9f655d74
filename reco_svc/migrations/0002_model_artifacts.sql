-- Models live in the artifact store (common/artifacts): `path` holds the archive's location
-- (s3://..., postgresql:..., file://...), written before the row; sha256 and size_bytes are
-- what was written, checked on every fetch. Rows from before the store have a folder in
-- `path` and no sha256.
ALTER TABLE reco_model_versions ADD COLUMN IF NOT EXISTS sha256 text;
ALTER TABLE reco_model_versions ADD COLUMN IF NOT EXISTS size_bytes bigint;
