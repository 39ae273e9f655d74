-- API keys (common/auth.py). Only a SHA-256 of each key's secret is stored: the
-- secret is 32 random bytes, so a plain hash is enough (no brute force can find it)
-- and verification stays one indexed lookup plus a constant-time compare.
CREATE TABLE IF NOT EXISTS api_keys (
    key_id       text        PRIMARY KEY,
    name         text        NOT NULL,
    scopes       text[]      NOT NULL,
    secret_sha256 text       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    CHECK (scopes <@ ARRAY['ingest', 'read', 'admin']::text[])
);
