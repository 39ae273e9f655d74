-- What the other services report of erasures (common/privacy/peers.py): with databases of
-- their own, their steps and their copy of each job are known here only from the bus.
CREATE TABLE IF NOT EXISTS erasure_peer_steps (
    service        text        PRIMARY KEY,
    steps          jsonb       NOT NULL,  -- [[step, store], ...]
    registered_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS erasure_peer_jobs (
    audit_id      bigint      NOT NULL,  -- the requester's audit id
    service       text        NOT NULL,
    state         text        NOT NULL,
    pass          smallint    NOT NULL,
    completed_at  timestamptz,
    steps         jsonb       NOT NULL,  -- that service's steps: done, attempts, removed, ...
    reported_at   timestamptz NOT NULL,
    PRIMARY KEY (audit_id, service)
);
