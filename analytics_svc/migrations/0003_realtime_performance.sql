-- Real-time minute buckets flushed by each replica (analytics_svc/realtime.py).
-- Each replica owns its rows (it rewrites its running totals); readers add replicas
-- up. Users are a set, so distinct counts stay exact across replicas.
CREATE TABLE IF NOT EXISTS realtime_minute_events (
    minute      timestamptz NOT NULL,
    event_type  text        NOT NULL,
    replica     text        NOT NULL,
    events      bigint      NOT NULL,
    PRIMARY KEY (minute, event_type, replica)
);

CREATE TABLE IF NOT EXISTS realtime_minute_users (
    minute   timestamptz NOT NULL,
    user_id  text        NOT NULL,
    PRIMARY KEY (minute, user_id)
);

-- Per-minute RPC statistics from the interceptor's observer hook (performance.py),
-- one row per replica, minute and method. Latencies are a fixed log-spaced histogram
-- (bucket bounds in performance.py) so that replicas' figures merge exactly.
CREATE TABLE IF NOT EXISTS rpc_minute_stats (
    minute     timestamptz NOT NULL,
    method     text        NOT NULL,
    replica    text        NOT NULL,
    calls      bigint      NOT NULL,
    errors     bigint      NOT NULL,
    seconds    double precision NOT NULL,
    buckets    bigint[]    NOT NULL,
    PRIMARY KEY (minute, method, replica)
);
