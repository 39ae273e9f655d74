-- The analytics events on a ClickHouse cluster (docs/operations.md "Events in ClickHouse").
-- Run once with clickhouse-client against any node; the service then finds `storyverse.events`
-- (the Distributed table) and creates nothing (CREATE TABLE IF NOT EXISTS).
--
-- Assumes: a cluster named `storyverse` in remote_servers, the macros {shard} and {replica}
-- on every server, ClickHouse Keeper, and a storage policy `hot_to_s3` with a local volume
-- `hot` and an S3 volume `cold` (docs/operations.md shows the server configuration).

CREATE DATABASE IF NOT EXISTS storyverse ON CLUSTER storyverse;

-- One replicated table per shard, replicas deduplicate inserted blocks; ReplacingMergeTree
-- removes a repeated (user_id, ts, event_id) when parts merge, reads use FINAL.
CREATE TABLE IF NOT EXISTS storyverse.events_local ON CLUSTER storyverse (
    event_id      String CODEC(ZSTD(3)),
    user_id       String CODEC(ZSTD(3)),
    session_id    Nullable(String) CODEC(ZSTD(3)),
    event_type    LowCardinality(String),
    ts            DateTime64(6, 'UTC') CODEC(Delta, ZSTD(3)),
    received_at   DateTime64(6, 'UTC') CODEC(Delta, ZSTD(3)),
    stored_at     DateTime64(6, 'UTC') DEFAULT now64(6) CODEC(Delta, ZSTD(3)),
    story_id      Nullable(String) CODEC(ZSTD(3)),
    universes     Array(LowCardinality(String)),
    characters    Array(LowCardinality(String)),
    theme         LowCardinality(Nullable(String)),
    moral_lesson  LowCardinality(Nullable(String)),
    creation_time Nullable(Float32),
    device_type   LowCardinality(Nullable(String)),
    platform      LowCardinality(Nullable(String)),
    age_group     LowCardinality(Nullable(String)),
    feature       LowCardinality(Nullable(String)),
    props         Nullable(String) CODEC(ZSTD(3))
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/storyverse/events', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (user_id, ts, event_id)
-- Historical data: months older than 90 days move to object storage (still queried
-- transparently); the retention job's cut-off (data_retention.py) can become a TTL DELETE.
TTL toDateTime(ts) + INTERVAL 90 DAY TO VOLUME 'cold'
SETTINGS storage_policy = 'hot_to_s3';

-- What the service reads and writes: sharded by user, so every user's stream (funnels,
-- retention, sessions) lives on one shard and is folded there.
CREATE TABLE IF NOT EXISTS storyverse.events ON CLUSTER storyverse AS storyverse.events_local
ENGINE = Distributed(storyverse, storyverse, events_local, cityHash64(user_id));
