-- Right to erasure (common/privacy/). No erased data is kept here: users are named by
-- a salted SHA-256 of their id; the salt lives in this database only.
CREATE TABLE IF NOT EXISTS privacy_salt (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    salt      text    NOT NULL
);
INSERT INTO privacy_salt (salt) VALUES (gen_random_uuid()::text || gen_random_uuid()::text)
ON CONFLICT DO NOTHING;

-- Users whose data was erased: model training skips them, even for events that
-- arrive later from an offline device.
CREATE TABLE IF NOT EXISTS erased_users (
    user_hash  text        PRIMARY KEY,
    erased_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per erasure request: who asked, when, how many rows went, per table.
CREATE TABLE IF NOT EXISTS privacy_audit (
    id           bigserial   PRIMARY KEY,
    user_hash    text        NOT NULL,
    requested_by text        NOT NULL,
    request_id   text        NOT NULL DEFAULT '',
    at           timestamptz NOT NULL DEFAULT now(),
    deleted      jsonb       NOT NULL
);
