-- Erasure as a durable job (common/privacy/jobs.py, docs/security.md "Right to erasure").

-- The registry: every step that removes a user's data from a shared store, registered
-- by the service that owns the store when it starts (its own list replaces its rows).
CREATE TABLE IF NOT EXISTS erasure_steps (
    step           text        PRIMARY KEY,
    service        text        NOT NULL,
    store          text        NOT NULL,
    registered_at  timestamptz NOT NULL DEFAULT now()
);

-- One job per erasure request, keyed by its audit entry. user_id is what the steps need
-- to find the rows; it is cleared when the job completes (the audit log never holds it).
CREATE TABLE IF NOT EXISTS erasure_jobs (
    audit_id      bigint      PRIMARY KEY REFERENCES privacy_audit (id),
    user_hash     text        NOT NULL,
    user_id       text,
    state         text        NOT NULL DEFAULT 'erasing'
                              CHECK (state IN ('erasing', 'verifying', 'completed')),
    pass          smallint    NOT NULL DEFAULT 1,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz
);
CREATE INDEX IF NOT EXISTS erasure_jobs_open ON erasure_jobs (audit_id) WHERE state <> 'completed';
CREATE INDEX IF NOT EXISTS erasure_jobs_running_user ON erasure_jobs (user_hash) WHERE user_id IS NOT NULL;

-- Each job's steps in its current pass: 1 erases, the later ones verify (run again after a
-- pause and find nothing, or erase what an in-flight write brought back).
CREATE TABLE IF NOT EXISTS erasure_job_steps (
    audit_id    bigint      NOT NULL REFERENCES erasure_jobs (audit_id) ON DELETE CASCADE,
    step        text        NOT NULL,
    service     text        NOT NULL,
    pass        smallint    NOT NULL DEFAULT 1,
    due_at      timestamptz NOT NULL DEFAULT now(),
    attempts    int         NOT NULL DEFAULT 0,
    last_error  text,
    -- Items removed over all passes, and in the current pass.
    removed     bigint      NOT NULL DEFAULT 0,
    found       bigint      NOT NULL DEFAULT 0,
    done_at     timestamptz,
    PRIMARY KEY (audit_id, step)
);
CREATE INDEX IF NOT EXISTS erasure_job_steps_due ON erasure_job_steps (due_at) WHERE done_at IS NULL;

-- Tombstones are read by the time of erasure (common/privacy/tombstones.py).
CREATE INDEX IF NOT EXISTS erased_users_erased_at ON erased_users (erased_at);
