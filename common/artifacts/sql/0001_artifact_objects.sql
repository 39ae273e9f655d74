-- Artifacts kept in PostgreSQL itself (common/artifacts/postgres.py): small models, in
-- deployments where the database is the one store every process already shares.
CREATE TABLE IF NOT EXISTS artifact_objects (
    key         text        PRIMARY KEY,
    data        bytea       NOT NULL,
    size        bigint      NOT NULL,
    written_at  timestamptz NOT NULL DEFAULT now()
);

-- The bytes are already dense (float32 weights, an ONNX graph): compressing them costs CPU
-- on every write and read for little; stored out of line, uncompressed.
ALTER TABLE artifact_objects ALTER COLUMN data SET STORAGE EXTERNAL;
