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
    ts            DateTime64(6, 'UTC') CODEC(GCD, Delta, ZSTD(3)),
    received_at   DateTime64(6, 'UTC') CODEC(GCD, Delta, ZSTD(3)),
    stored_at     DateTime64(6, 'UTC') DEFAULT now64(6) CODEC(GCD, Delta, ZSTD(3)),
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





-- The aggregates the dashboard and retention read (clickhouse_schema.py AGGREGATES), one per shard,
-- kept by views over events_local, read through Distributed tables. A test keeps the
-- columns and the views' SELECTs equal to clickhouse_schema.py's.

CREATE TABLE IF NOT EXISTS storyverse.retention_users_local ON CLUSTER storyverse (
    event_type LowCardinality(String),
    user_id    String CODEC(ZSTD(3)),
    first      SimpleAggregateFunction(min, String) CODEC(ZSTD(3)),
    days       SimpleAggregateFunction(groupUniqArrayArray, Array(Date)) CODEC(ZSTD(3))
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/storyverse/retention_users', '{replica}')
    ORDER BY (event_type, user_id);
CREATE MATERIALIZED VIEW IF NOT EXISTS storyverse.retention_users_mv ON CLUSTER storyverse
TO storyverse.retention_users_local AS
SELECT kind AS event_type, user_id, min(first) AS first, groupUniqArray(day) AS days FROM ( SELECT user_id, toString(event_type) AS type, toDate(ts) AS day, concat(leftPad(toString(toUnixTimestamp64Micro(ts)), 20, '0'), event_id, '\0', ifNull(age_group, ''), '\0', ifNull(platform, ''), '\0', ifNull(device_type, '')) AS first FROM storyverse.events_local ) ARRAY JOIN [type, '*'] AS kind GROUP BY kind, user_id;
CREATE TABLE IF NOT EXISTS storyverse.retention_users ON CLUSTER storyverse AS storyverse.retention_users_local
ENGINE = Distributed(storyverse, storyverse, retention_users_local, cityHash64(user_id));

CREATE TABLE IF NOT EXISTS storyverse.funnel_streams_local ON CLUSTER storyverse (
    event_type LowCardinality(String),
    user_id    String CODEC(ZSTD(3)),
    month      Date,
    age_group LowCardinality(String), platform LowCardinality(String),
    device_type LowCardinality(String),
    times      SimpleAggregateFunction(groupArrayArray, Array(Int64)) CODEC(GCD, Delta, ZSTD(3))
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/storyverse/funnel_streams', '{replica}')
    PARTITION BY toYYYYMM(month)
    ORDER BY (event_type, user_id, month, age_group, platform, device_type);
CREATE MATERIALIZED VIEW IF NOT EXISTS storyverse.funnel_streams_mv ON CLUSTER storyverse
TO storyverse.funnel_streams_local AS
SELECT event_type, user_id, toStartOfMonth(ts) AS month, ifNull(age_group, '') AS age_group, ifNull(platform, '') AS platform, ifNull(device_type, '') AS device_type, arraySort(groupArray(toUnixTimestamp64Micro(ts))) AS times FROM storyverse.events_local GROUP BY event_type, user_id, month, age_group, platform, device_type;
CREATE TABLE IF NOT EXISTS storyverse.funnel_streams ON CLUSTER storyverse AS storyverse.funnel_streams_local
ENGINE = Distributed(storyverse, storyverse, funnel_streams_local, cityHash64(user_id));

CREATE TABLE IF NOT EXISTS storyverse.daily_users_local ON CLUSTER storyverse (
    day Date, age_group LowCardinality(String), platform LowCardinality(String),
    device_type LowCardinality(String), user_id String CODEC(ZSTD(3))
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/storyverse/daily_users', '{replica}')
    ORDER BY (day, age_group, platform, device_type, user_id);
CREATE MATERIALIZED VIEW IF NOT EXISTS storyverse.daily_users_mv ON CLUSTER storyverse
TO storyverse.daily_users_local AS
SELECT DISTINCT toDate(ts) AS day, ifNull(age_group, '') AS age_group, ifNull(platform, '') AS platform, ifNull(device_type, '') AS device_type, user_id FROM storyverse.events_local;
CREATE TABLE IF NOT EXISTS storyverse.daily_users ON CLUSTER storyverse AS storyverse.daily_users_local
ENGINE = Distributed(storyverse, storyverse, daily_users_local, cityHash64(user_id));

CREATE TABLE IF NOT EXISTS storyverse.daily_event_counts_local ON CLUSTER storyverse (
    day Date, event_type LowCardinality(String), age_group LowCardinality(String),
    platform LowCardinality(String), device_type LowCardinality(String), events UInt64
) ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/storyverse/daily_event_counts', '{replica}')
    ORDER BY (day, event_type, age_group, platform, device_type);
CREATE MATERIALIZED VIEW IF NOT EXISTS storyverse.daily_event_counts_mv ON CLUSTER storyverse
TO storyverse.daily_event_counts_local AS
SELECT toDate(ts) AS day, event_type, ifNull(age_group, '') AS age_group, ifNull(platform, '') AS platform, ifNull(device_type, '') AS device_type, count() AS events FROM storyverse.events_local GROUP BY day, event_type, age_group, platform, device_type;
CREATE TABLE IF NOT EXISTS storyverse.daily_event_counts ON CLUSTER storyverse AS storyverse.daily_event_counts_local
ENGINE = Distributed(storyverse, storyverse, daily_event_counts_local, rand());

CREATE TABLE IF NOT EXISTS storyverse.daily_content_local ON CLUSTER storyverse (
    day Date, kind LowCardinality(String), key String CODEC(ZSTD(3)),
    age_group LowCardinality(String), platform LowCardinality(String),
    device_type LowCardinality(String), uses UInt64
) ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/storyverse/daily_content', '{replica}')
    ORDER BY (day, kind, key, age_group, platform, device_type);
CREATE MATERIALIZED VIEW IF NOT EXISTS storyverse.daily_content_mv ON CLUSTER storyverse
TO storyverse.daily_content_local AS
SELECT toDate(ts) AS day, item.1 AS kind, item.2 AS key, ifNull(age_group, '') AS age_group, ifNull(platform, '') AS platform, ifNull(device_type, '') AS device_type, count() AS uses FROM storyverse.events_local ARRAY JOIN arrayConcat( arrayMap(u -> ('universe', toString(u)), arrayDistinct(universes)), arrayMap(c -> ('character', toString(c)), arrayDistinct(characters)), if(ifNull(theme, '') != '', [('theme', ifNull(theme, ''))], []), if(ifNull(moral_lesson, '') != '', [('moral_lesson', ifNull(moral_lesson, ''))], []) , arrayMap(p -> ('universe_pair', concat(p.1, '+', p.2)), arrayFilter(p -> p.1 < p.2, arrayFlatten(arrayMap(a -> arrayMap(b -> (toString(a), toString(b)), arrayDistinct(universes)), arrayDistinct(universes)))))) AS item WHERE event_type = 'story_creation' GROUP BY day, kind, key, age_group, platform, device_type;
CREATE TABLE IF NOT EXISTS storyverse.daily_content ON CLUSTER storyverse AS storyverse.daily_content_local
ENGINE = Distributed(storyverse, storyverse, daily_content_local, rand());

CREATE TABLE IF NOT EXISTS storyverse.daily_creation_times_local ON CLUSTER storyverse (
    day Date, age_group LowCardinality(String), platform LowCardinality(String),
    device_type LowCardinality(String), value Float64, n UInt64
) ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/storyverse/daily_creation_times', '{replica}')
    ORDER BY (day, age_group, platform, device_type, value);
CREATE MATERIALIZED VIEW IF NOT EXISTS storyverse.daily_creation_times_mv ON CLUSTER storyverse
TO storyverse.daily_creation_times_local AS
SELECT toDate(ts) AS day, ifNull(age_group, '') AS age_group, ifNull(platform, '') AS platform, ifNull(device_type, '') AS device_type, toFloat64(creation_time) AS value, count() AS n FROM storyverse.events_local WHERE event_type = 'story_creation' AND creation_time IS NOT NULL GROUP BY day, age_group, platform, device_type, value;
CREATE TABLE IF NOT EXISTS storyverse.daily_creation_times ON CLUSTER storyverse AS storyverse.daily_creation_times_local
ENGINE = Distributed(storyverse, storyverse, daily_creation_times_local, rand());
