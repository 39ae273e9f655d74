-- A/B experiments (docs/experiments.md). The definition is one JSON document (variants,
-- targeting, metrics: validated by the contract and analytics_svc/experiment_model.py);
-- status and times are columns because the service filters and orders on them.
CREATE TABLE IF NOT EXISTS experiments (
    key                 text        NOT NULL PRIMARY KEY,
    salt                text        NOT NULL,
    status              text        NOT NULL DEFAULT 'draft'
                                    CHECK (status IN ('draft', 'running', 'stopped')),
    definition          jsonb       NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    stopped_at          timestamptz,
    weights_changed_at  timestamptz
);

-- The variant a user got on first assignment. Persisted so that a later change of the
-- weights never moves a user who was already exposed (the hash alone would).
CREATE TABLE IF NOT EXISTS experiment_assignments (
    experiment_key  text        NOT NULL REFERENCES experiments (key) ON DELETE CASCADE,
    user_id         text        NOT NULL,
    variant         text        NOT NULL,
    assigned_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (experiment_key, user_id)
);
