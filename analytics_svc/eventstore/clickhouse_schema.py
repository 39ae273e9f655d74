"""The ClickHouse store's tables: the events table (`SCHEMA`) and the aggregates kept beside it
by materialized views (`AGGREGATES`), created on open (`create_schema`). clickhouse_cluster.sql
repeats them for a cluster (ON CLUSTER, Replicated*, Distributed); a test keeps both equal."""

from __future__ import annotations

from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS {db}.events (
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
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (user_id, ts, event_id)
"""

# Aggregates kept by materialized views as events arrive, one (table, view) pair each; the
# dashboard and retention read these instead of every event. `{dims}`: the properties the
# dashboard filters by, '' for none (filter values are never empty).
_DIMS = ", ".join(f"ifNull({d}, '') AS {d}" for d in ("age_group", "platform", "device_type"))
AGGREGATES = {
    # Retention, one row per event type and user, and one for any type ('*'): the first
    # event (ties by event_id) as one string that sorts like (ts, event_id): 20 digits of
    # micros, the id, then \0 and the cohort's properties; and the days with such events.
    # Ordered by type: a report reads the rows of its start and return types only. A String
    # min and an array union merge fast (argMin over a tuple state was 10x slower);
    # duplicates change neither.
    "retention_users": (
        """CREATE TABLE IF NOT EXISTS {db}.retention_users (
            event_type LowCardinality(String),
            user_id    String CODEC(ZSTD(3)),
            first      SimpleAggregateFunction(min, String) CODEC(ZSTD(3)),
            days       SimpleAggregateFunction(groupUniqArrayArray, Array(Date)) CODEC(ZSTD(3))
        ) ENGINE = AggregatingMergeTree ORDER BY (event_type, user_id)""",
        """SELECT kind AS event_type, user_id, min(first) AS first, groupUniqArray(day) AS days
        FROM (
            SELECT user_id, toString(event_type) AS type, toDate(ts) AS day,
                   concat(leftPad(toString(toUnixTimestamp64Micro(ts)), 20, '0'), event_id,
                          '\\0', ifNull(age_group, ''), '\\0', ifNull(platform, ''),
                          '\\0', ifNull(device_type, '')) AS first
            FROM {db}.events
        ) ARRAY JOIN [type, '*'] AS kind
        GROUP BY kind, user_id""",
    ),
    # Ordered funnels over event types (clickhouse_funnel.py): per event type, user, month
    # and properties, the times of the events (µs, sorted within each insert). A funnel
    # reads the rows of its steps' types only, with no per-event grouping; Delta suits
    # times that grow along a row. Duplicates add an equal (time, step) pair: no answer moves.
    "funnel_streams": (
        """CREATE TABLE IF NOT EXISTS {db}.funnel_streams (
            event_type LowCardinality(String),
            user_id    String CODEC(ZSTD(3)),
            month      Date,
            age_group LowCardinality(String), platform LowCardinality(String),
            device_type LowCardinality(String),
            times      SimpleAggregateFunction(groupArrayArray, Array(Int64)) CODEC(GCD, Delta, ZSTD(3))
        ) ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(month)
        ORDER BY (event_type, user_id, month, age_group, platform, device_type)""",
        """SELECT event_type, user_id, toStartOfMonth(ts) AS month, {dims},
                  arraySort(groupArray(toUnixTimestamp64Micro(ts))) AS times
        FROM {db}.events GROUP BY event_type, user_id, month, age_group, platform, device_type""",
    ),
    # The dashboard's active users: who was active on a day, under which properties.
    "daily_users": (
        """CREATE TABLE IF NOT EXISTS {db}.daily_users (
            day Date, age_group LowCardinality(String), platform LowCardinality(String),
            device_type LowCardinality(String), user_id String CODEC(ZSTD(3))
        ) ENGINE = ReplacingMergeTree ORDER BY (day, age_group, platform, device_type, user_id)""",
        "SELECT DISTINCT toDate(ts) AS day, {dims}, user_id FROM {db}.events",
    ),
    # Counts that name nobody (kept on erasure, as PostgreSQL keeps its count rollups).
    "daily_event_counts": (
        """CREATE TABLE IF NOT EXISTS {db}.daily_event_counts (
            day Date, event_type LowCardinality(String), age_group LowCardinality(String),
            platform LowCardinality(String), device_type LowCardinality(String), events UInt64
        ) ENGINE = SummingMergeTree ORDER BY (day, event_type, age_group, platform, device_type)""",
        """SELECT toDate(ts) AS day, event_type, {dims}, count() AS events FROM {db}.events
        GROUP BY day, event_type, age_group, platform, device_type""",
    ),
    "daily_content": (
        """CREATE TABLE IF NOT EXISTS {db}.daily_content (
            day Date, kind LowCardinality(String), key String CODEC(ZSTD(3)),
            age_group LowCardinality(String), platform LowCardinality(String),
            device_type LowCardinality(String), uses UInt64
        ) ENGINE = SummingMergeTree ORDER BY (day, kind, key, age_group, platform, device_type)""",
        """SELECT toDate(ts) AS day, item.1 AS kind, item.2 AS key, {dims}, count() AS uses
        FROM {db}.events ARRAY JOIN {items} AS item WHERE event_type = 'story_creation'
        GROUP BY day, kind, key, age_group, platform, device_type""",
    ),
    "daily_creation_times": (
        """CREATE TABLE IF NOT EXISTS {db}.daily_creation_times (
            day Date, age_group LowCardinality(String), platform LowCardinality(String),
            device_type LowCardinality(String), value Float64, n UInt64
        ) ENGINE = SummingMergeTree ORDER BY (day, age_group, platform, device_type, value)""",
        """SELECT toDate(ts) AS day, {dims}, toFloat64(creation_time) AS value, count() AS n
        FROM {db}.events WHERE event_type = 'story_creation' AND creation_time IS NOT NULL
        GROUP BY day, age_group, platform, device_type, value""",
    ),
}
# Aggregates of earlier versions, dropped on open.
_OLD_AGGREGATES = ("user_first_events", "user_days", "user_type_activity")
# The tables that hold a user's data (erasure).
USER_TABLES = ("events", "retention_users", "daily_users", "funnel_streams")

# Every item a story creation uses, as (kind, key): each key once per event.
CONTENT_ITEMS = """arrayConcat(
    arrayMap(u -> ('universe', toString(u)), arrayDistinct(universes)),
    arrayMap(c -> ('character', toString(c)), arrayDistinct(characters)),
    if(ifNull(theme, '') != '', [('theme', ifNull(theme, ''))], []),
    if(ifNull(moral_lesson, '') != '', [('moral_lesson', ifNull(moral_lesson, ''))], [])
    {pairs})"""
_PAIRS = """, arrayMap(p -> ('universe_pair', concat(p.1, '+', p.2)), arrayFilter(p -> p.1 < p.2,
        arrayFlatten(arrayMap(a -> arrayMap(b -> (toString(a), toString(b)), arrayDistinct(universes)),
                              arrayDistinct(universes)))))"""


def create_schema(client: Any, database: str) -> None:
    """The database, the events table and each aggregate with its view; an aggregate that is
    new to a database holding events is filled from them once. Aggregates of earlier
    versions are dropped; tables of earlier versions get the columns and codecs declared
    now (`_bring_up_to_date`)."""
    client.command(f"CREATE DATABASE IF NOT EXISTS {database}")
    client.command(SCHEMA.format(db=database))
    _bring_up_to_date(client, database, "events", SCHEMA)
    for table in _OLD_AGGREGATES:
        client.command(f"DROP VIEW IF EXISTS {database}.{table}_mv")
        client.command(f"DROP TABLE IF EXISTS {database}.{table}")
    for table, (create, select) in AGGREGATES.items():
        fresh = not client.command(f"EXISTS TABLE {database}.{table}")
        select = aggregate_select(select, database)
        client.command(create.format(db=database))
        if not fresh:
            _bring_up_to_date(client, database, table, create)
        client.command(
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.{table}_mv TO {database}.{table} AS {select}"
        )
        if fresh:  # events stored before the view existed: counted once, now
            client.command(f"INSERT INTO {database}.{table} {select}")


def aggregate_select(select: str, database: str) -> str:
    return select.format(db=database, dims=_DIMS, items=CONTENT_ITEMS.format(pairs=_PAIRS))


def _bring_up_to_date(client: Any, database: str, table: str, create: str) -> None:
    """An existing table as `create` declares it now: the columns it lacks are added (with
    their defaults and codecs) and changed codecs are set (parts written from then on use
    them, older parts as they merge). Declared columns are read from a scratch table made by
    `create`, so both sides are in ClickHouse's own spelling. A changed type, key or view
    needs a step of its own (as `_OLD_AGGREGATES`). Tables other than MergeTree ones (the
    Distributed tables of clickhouse_cluster.sql) are left alone: a cluster's operators run
    such ALTERs ON CLUSTER on the `*_local` tables."""
    engine = client.command(
        "SELECT engine FROM system.tables WHERE database = {d:String} AND name = {t:String}",
        parameters={"d": database, "t": table},
    )
    if not str(engine).endswith("MergeTree") or str(engine).startswith("Replicated"):
        return
    scratch = f"{table}__declared"
    named = create.format(db=database)
    assert f"{database}.{table} (" in named, table
    client.command(f"DROP TABLE IF EXISTS {database}.{scratch}")
    client.command(named.replace(f"{database}.{table} (", f"{database}.{scratch} (", 1))
    try:
        declared = _columns(client, database, scratch)
    finally:
        client.command(f"DROP TABLE IF EXISTS {database}.{scratch}")
    existing = _columns(client, database, table)
    for name, (kind, default, codec) in declared.items():
        if name not in existing:
            client.command(
                f"ALTER TABLE {database}.{table} ADD COLUMN IF NOT EXISTS {name} {kind}{default} {codec}"
            )
        elif existing[name][2] != codec:
            change = codec or "REMOVE CODEC"
            client.command(f"ALTER TABLE {database}.{table} MODIFY COLUMN {name} {change}")


def _columns(client: Any, database: str, table: str) -> dict[str, tuple[str, str, str]]:
    """name → (type, ' DEFAULT expr' or '', codec clause or '')."""
    result = client.query(
        "SELECT name, type, default_kind, default_expression, compression_codec FROM system.columns"
        " WHERE database = {d:String} AND table = {t:String} ORDER BY position",
        parameters={"d": database, "t": table},
    )
    return {
        name: (kind, f" {default_kind} {expression}" if default_kind else "", codec)
        for name, kind, default_kind, expression, codec in result.result_rows
    }
