"""Events in ClickHouse, through clickhouse-connect: a server or cluster (SV_CLICKHOUSE_URL),
or the embedded chDB engine (`interface='chdb'`, data under SV_DATA_DIR/clickhouse).

Schema (clickhouse_schema.py): one ReplacingMergeTree table partitioned by month and ordered by
(user_id, ts, event_id), so a user's events are contiguous and in stream order, and the
aggregates of `AGGREGATES`, kept by materialized views as events are inserted. The
dashboard, the reports, funnels, retention, the experiment report and click-through are
ClickHouse SQL, with the semantics of docs/analytics.md (tests/analytics/
test_eventstore_clickhouse*.py compare every answer with PostgreSQL and the reference fold):

- the dashboard reads the daily aggregates (active users per day and properties, event
  counts, content uses, creation times) in one query;
- funnels (clickhouse_funnel.py) walk each user's stream with array functions
  (ClickHouse's windowFunnel orders ties by time only and keeps one chain per user, which
  is not the documented "every step-1 event starts an attempt, ties by event_id"). The
  stream is sorted by ts (and step mask), without reading event_id (that String read costs as much
  as the rest); the few users whose events of one ts differ in step or group are read
  again through the primary key in (ts, event_id) order and folded in Python, and if any
  answer changes, the figures are recomputed with their exact rows in the same aggregate
  (medians do not merge);
- retention reads one row per user and event type: the first event (a String that sorts
  as (ts, event_id)) and the days with such events;
- the experiment report and click-through read raw events (exposures, the events within
  a metric's window of each user's first exposure; shown and clicked events).

Erasure deletes a user's rows from the events and the aggregates that name users; the
count aggregates name nobody and are kept, as PostgreSQL keeps its count rollups.

Idempotent by event_id: `append` drops the ids the table already holds for the batch's
users (read through the primary key), and the table replaces rows of the same
(user_id, ts, event_id) when parts merge. Reads do not use FINAL (it made the funnel 3x
slower on the benchmark): a duplicate can only come from two writers inserting the same
event at the same moment (a Kafka rebalance in the middle of a batch) and is counted until
the next merge removes it (`OPTIMIZE TABLE events FINAL` forces that).

On a cluster the same queries run over the Distributed table of clickhouse_cluster.sql
(sharded by user: a user's stream is folded on its shard). clickhouse-connect has no async
client with chDB and one engine serves a process: every call runs in one worker thread.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from analytics_svc.churn.activity import EVENING_HOUR, EVENT_CHANNELS
from analytics_svc.eventstore.base import DashboardRows
from analytics_svc.eventstore.clickhouse_funnel import FunnelQuery, exact_attempts, in_stream_order
from analytics_svc.eventstore.clickhouse_schema import AGGREGATES, CONTENT_ITEMS, USER_TABLES, create_schema
from analytics_svc.eventstore.clickhouse_sql import (
    BREAKDOWN,
    Params,
    dims_filter,
    micros,
    prop_text,
    step_predicate,
)
from analytics_svc.experiments.model import Metric
from analytics_svc.figures import distribution_of
from analytics_svc.ingestion.prepare import COLUMNS
from analytics_svc.requests import DashboardParams, Filters, ReportParams, day_start

_BUCKET = {"hour": "toStartOfHour(ts)", "day": "toDate(ts)", "week": "toMonday(ts)"}

_VARIANT, _EXPERIMENT_KEY = prop_text("'variant'"), prop_text("'experiment_key'")
_REC_TYPE, _MODEL_VERSION = prop_text("'recommendation_type'"), prop_text("'model_version'")
# Numeric properties of an event (experiments/queries.py PROPERTY_SQL).
PROPERTY_SQL = {
    "creation_time": "toFloat64(creation_time)",
    "duration": "toFloat64OrNull(" + prop_text("'duration'") + ")",
    "position": "toFloat64OrNull(" + prop_text("'position'") + ")",
}


def _number(value: Any) -> float | None:
    """NULL or NaN (an aggregate over no rows) as None, like PostgreSQL's NULL."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


class ClickHouseEventStore:
    name = "clickhouse"

    def __init__(self, client: Any, database: str, threads: int = 1, cluster: str = "") -> None:
        self.client = client
        self.db = database
        self.cluster = cluster
        self._thread = ThreadPoolExecutor(threads, thread_name_prefix="clickhouse")
        self._final = ""  # see the module docstring: append() keeps ids unique

    @classmethod
    async def open(
        cls,
        url: str | None = None,
        path: Path | str | None = None,
        database: str = "storyverse",
        cluster: str = "",
    ) -> ClickHouseEventStore:
        """A server (url: http(s)://user:password@host:8123 or a chdb:// DSN) or the embedded
        engine with its data under `path`; the database and table are created if missing.
        `cluster`: the tables are clickhouse_cluster.sql's (Distributed over `<table>_local`)."""
        import clickhouse_connect

        def connect() -> Any:
            if url:
                client = clickhouse_connect.get_client(dsn=url)
            else:
                client = clickhouse_connect.get_client(interface="chdb", path=str(path))
            create_schema(client, database)
            return client

        store = cls(None, database, threads=1 if not url else 4, cluster=cluster)
        store.client = await store._call(connect)
        return store

    @property
    def table(self) -> str:
        return f"{self.db}.events"

    async def _call(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    async def fetch(self, sql: str, params: Params | None = None, in_order: bool = False) -> list[dict]:
        """Rows as dicts; `in_order`: group by user in table order (each user's rows arrive
        together: less memory, faster on the per-user folds)."""
        settings = {"optimize_aggregation_in_order": 1} if in_order else None

        def run() -> list[dict]:
            result = self.client.query(sql, parameters=params.values if params else None, settings=settings)
            names = result.column_names
            return [dict(zip(names, row, strict=True)) for row in result.result_rows]

        return await self._call(run)

    def _events(self) -> str:
        return f"{self.table} {self._final}"

    def mutation(self, table: str, action: str) -> str:
        """`ALTER TABLE … {action}` on one of the database's tables. A Distributed table takes
        no mutation: on a cluster it goes to the shards' local tables, ON CLUSTER."""
        if self.cluster:
            return f"ALTER TABLE {self.db}.{table}_local ON CLUSTER {_identifier(self.cluster)} {action}"
        return f"ALTER TABLE {self.db}.{table} {action}"

    # --- writing ------------------------------------------------------------------------

    async def append(self, rows: Sequence[tuple]) -> set[str]:
        if not rows:
            return set()

        def write() -> set[str]:
            users = sorted({r[1] for r in rows})
            ids = [r[0] for r in rows]
            known = {
                r[0]
                for r in self.client.query(
                    f"SELECT event_id FROM {self.table} WHERE user_id IN {{u:Array(String)}}"
                    " AND event_id IN {i:Array(String)}",
                    parameters={"u": users, "i": ids},
                ).result_rows
            }
            fresh, seen = [], set()
            for row in rows:
                if row[0] in known or row[0] in seen:
                    continue
                seen.add(row[0])
                fresh.append(_storable(row))
            if fresh:
                self.client.insert(self.table, fresh, column_names=list(COLUMNS))
            return seen

        return await self._call(write)

    async def load(self, rows: Sequence[tuple], columns: Sequence[str]) -> None:
        """A bulk load of rows known to be new (benchmarks, migrations): no id check."""
        await self._call(
            lambda: self.client.insert(self.table, [_storable(r) for r in rows], column_names=list(columns))
        )

    async def erase_user(self, user_id: str) -> int:
        def erase() -> int:
            count = self.client.query(
                f"SELECT count() FROM {self.table} WHERE user_id = {{u:String}}", parameters={"u": user_id}
            ).result_rows[0][0]
            for table in USER_TABLES:
                self.client.command(
                    self.mutation(table, "DELETE WHERE user_id = {u:String}"),
                    parameters={"u": user_id},
                    settings={"mutations_sync": 2},
                )
            return int(count)

        return await self._call(erase)

    async def delete_older(self, cutoff: datetime, dry_run: bool = False) -> dict[str, int]:
        """The retention policy (data_retention.py): events before `cutoff` go, and so do
        their times in funnel_streams (the raw stream, as PostgreSQL's user_day_sequences);
        the aggregates that count or mark days stay, as PostgreSQL keeps its rollups.
        Mutations, waited for; a part without old rows is not rewritten. Returns the
        events deleted and the funnel_streams rows left empty (`dry_run`: the events only)."""
        at = {"c": micros(cutoff)}
        before = "ts < fromUnixTimestamp64Micro({c:Int64}, 'UTC')"
        month = "month <= toStartOfMonth(fromUnixTimestamp64Micro({c:Int64}, 'UTC'))"
        streams, wait = f"{self.db}.funnel_streams", {"mutations_sync": 2}

        def count(sql: str) -> int:
            return int(self.client.query(sql, parameters=at).result_rows[0][0])

        def delete() -> dict[str, int]:
            old = count(f"SELECT count() FROM {self.table} WHERE {before}")
            if dry_run:
                return {"events": old}
            old_events = self.mutation("events", f"DELETE WHERE {before}")
            self.client.command(old_events, parameters=at, settings=wait)
            self.client.command(
                self.mutation(
                    "funnel_streams",
                    "UPDATE times = arrayFilter(x -> x >= {c:Int64}, times)"
                    f" WHERE {month} AND arrayExists(x -> x < {{c:Int64}}, times)",
                ),
                parameters=at,
                settings=wait,
            )
            emptied = count(f"SELECT count() FROM {streams} WHERE {month} AND empty(times)")
            empty = self.mutation("funnel_streams", f"DELETE WHERE {month} AND empty(times)")
            self.client.command(empty, parameters=at, settings=wait)
            return {"events": old, "funnel_streams": emptied}

        return await self._call(delete)

    async def count(self) -> int:
        rows = await self.fetch(f"SELECT count() AS n FROM {self._events()}")
        return int(rows[0]["n"])

    async def bytes_on_disk(self) -> int:
        """The database's storage: events and the aggregates kept beside them."""
        rows = await self.fetch(
            "SELECT sum(bytes_on_disk) AS b FROM system.parts WHERE active AND database = {d:String}",
            _params(d=(self.db, "String")),
        )
        return int(rows[0]["b"] or 0)

    async def optimize(self) -> None:
        """Merge every table's parts (what background merges do over time; after a bulk load)."""
        for table in ("events", *AGGREGATES):
            await self._call(lambda t=table: self.client.command(f"OPTIMIZE TABLE {self.db}.{t} FINAL"))

    # --- dashboard ----------------------------------------------------------------------

    async def dashboard(self, params: DashboardParams, activity_from: date) -> DashboardRows:
        """From the daily aggregates, in one query (one round trip, one plan): rows tagged by
        what they are (active users over the range, per day; counts; content; times)."""
        start, end, filters = params.start, params.end, params.filters
        p = Params()
        f = dims_filter(p, filters)
        lo, hi = p.add(start, "Date"), p.add(end, "Date")
        a_lo, week = p.add(activity_from, "Date"), p.add(end - timedelta(days=6), "Date")
        month = p.add(end - timedelta(days=29), "Date")
        db = self.db
        # One column set for every part: (part, d, a, b, c, n1, n2, n3, xs, ns); no alias may
        # name a column (ClickHouse would read the alias in WHERE). Active users: one set of
        # users per day (uniqExactState), merged for DAU/WAU/MAU, instead of hashing every
        # user id once per figure (10M events: 116 → 50 ms). Creation times: one row of
        # arrays, not a row per distinct value (8k rows: ~20 ms of Python).
        none_x, none_n = "emptyArrayFloat64()", "emptyArrayUInt64()"
        rows = await self.fetch(
            f"""
            SELECT if(i = 0, 'totals', 'day') AS part, if(i = 0, toDate(0), days[i]) AS d,
                   '' AS a, '' AS b, '' AS c, if(i = 0, dau, users[i]) AS n1, if(i = 0, wau, 0) AS n2,
                   if(i = 0, mau, 0) AS n3, {none_x} AS xs, {none_n} AS ns
            FROM (
                SELECT uniqExactMergeIf(s, day = {hi}) AS dau, uniqExactMergeIf(s, day >= {week}) AS wau,
                       uniqExactMergeIf(s, day >= {month}) AS mau, groupArrayIf(day, day >= {lo}) AS days,
                       groupArrayIf(finalizeAggregation(s), day >= {lo}) AS users
                FROM (
                    SELECT day, uniqExactState(user_id) AS s
                    FROM {db}.daily_users WHERE day >= {a_lo} AND day <= {hi} AND {f} GROUP BY day
                )
            )
            ARRAY JOIN arrayConcat([0], arrayEnumerate(days)) AS i
            UNION ALL
            SELECT 'counts', day, toString(event_type), device_type, platform, sum(events), 0, 0,
                   {none_x}, {none_n}
            FROM {db}.daily_event_counts WHERE day >= {lo} AND day <= {hi} AND {f}
            GROUP BY day, event_type, device_type, platform
            UNION ALL
            SELECT 'content', toDate(0), toString(kind), key, '', sum(uses), 0, 0, {none_x}, {none_n}
            FROM {db}.daily_content WHERE day >= {lo} AND day <= {hi} AND {f} GROUP BY kind, key
            UNION ALL
            SELECT 'times', toDate(0), '', '', '', 0, 0, 0, groupArray(toFloat64(value)), groupArray(uses)
            FROM (
                SELECT value, sum(n) AS uses FROM {db}.daily_creation_times
                WHERE day >= {lo} AND day <= {hi} AND {f} GROUP BY value
            )
            """,
            p,
        )
        parts: dict[str, list[dict]] = {"totals": [], "day": [], "counts": [], "content": [], "times": []}
        for r in rows:
            parts[r["part"]].append(r)
        t = parts["totals"][0]
        active = [{"kind": "totals", "day": None, "dau": t["n1"], "wau": t["n2"], "mau": t["n3"]}]
        active += [{"kind": "day", "day": r["d"], "dau": r["n1"]} for r in sorted(parts["day"], key=_day)]
        counts = [
            {"day": r["d"], "event_type": r["a"], "device_type": r["b"] or None, "platform": r["c"] or None,
             "events": r["n1"]}
            for r in parts["counts"]
        ]  # fmt: skip
        content = [{"kind": r["a"], "key": r["b"], "uses": r["n1"]} for r in parts["content"]]
        times = parts["times"][0]
        return DashboardRows(
            active,
            counts,
            content,
            distribution_of(times["xs"], times["ns"]),
            {"raw"},
        )

    async def ingestion(self, since: datetime) -> tuple[int, list[float] | None]:
        p = Params()
        rows = await self.fetch(
            f"""SELECT count() AS stored,
                       quantilesExactInclusive(0.5, 0.99)(
                           (toUnixTimestamp64Micro(stored_at) - toUnixTimestamp64Micro(received_at)) / 1e6
                       ) AS lag
                FROM {self._events()} WHERE stored_at >= {p.time(since)}""",
            p,
        )
        stored = int(rows[0]["stored"])
        return stored, ([_number(v) for v in rows[0]["lag"]] if stored else None)

    # --- funnels ------------------------------------------------------------------------

    async def funnel(self, params: ReportParams, window_seconds: int) -> tuple[list[dict], str]:
        """One pass over each user's stream sorted by ts and step mask (`FunnelQuery.streams`,
        clickhouse_funnel.py).
        The users whose order is in doubt (`tied`: 6 of 18,241 in the 2M-event benchmark)
        are read again through the primary key in stream order and folded here
        (`exact_attempts`); when an answer differs from the pass's, the figures are
        computed again from the pass's rows of the other users and these exact rows under
        one aggregate (medians do not merge)."""
        query = FunnelQuery(params, window_seconds, self._events(), f"{self.db}.funnel_streams")
        rows = await self.fetch(query.figures(query.attempts(), with_ties=True), query.p, in_order=True)
        tied = sorted({t[0] for r in rows for t in r["ties"]})
        if tied:
            users = query.p.add(tied, "Array(String)")
            events = in_stream_order(await self.fetch(query.events_of(users), query.p))
            exact = exact_attempts(events, params.funnel_order, query)
            if set(exact) != {tuple(t) for r in rows for t in r["ties"]}:
                kinds = ", ".join(["String", "String", "UInt64", *["Int64"] * query.n])
                fixed = query.p.add(exact, f"Array(Tuple({kinds}))")
                columns = ", ".join(f"a.{i} AS {c}" for i, c in enumerate(query.row, start=1))
                both = (
                    f"{query.attempts(users=f'user_id NOT IN {users}')}"
                    f" UNION ALL SELECT {columns}, 0 AS tied FROM (SELECT arrayJoin({fixed}) AS a)"
                )
                rows = await self.fetch(query.figures(both, with_ties=False), query.p, in_order=True)
        n = len(params.steps)
        groups = []
        for r in rows:
            steps_out = []
            for k in range(1, n + 1):
                users = int(r[f"users{k}"])
                if k == 1:
                    steps_out.append((users, None, None))
                else:
                    prev = _number(r[f"prev{k}"]) if users else None
                    first = _number(r[f"first{k}"]) if users else None
                    steps_out.append((users, prev, first))
            groups.append({"group": r["grp"], "steps": steps_out})
        return groups, "raw"

    # --- retention ----------------------------------------------------------------------

    async def retention(self, params: ReportParams) -> tuple[dict, str]:
        unit = "week" if params.granularity == "week" else "day"
        length = 7 if unit == "week" else 1
        period = "toMonday({})" if unit == "week" else "toDate({})"
        n = params.periods
        p = Params()
        start_type = p.add(params.start_event or "*", "String")
        return_type = p.add(params.return_event or "*", "String")
        first_filters = "".join(
            f" AND f[{i + 2}] = {p.add(value, 'String')}"
            for i, column in enumerate(("age_group", "platform", "device_type"))
            if (value := getattr(params.filters, column))
        )
        columns = [f"countIf(has(ks, {k})) AS in{k}" for k in range(n + 1)]
        columns += [f"countIf(notEmpty(ks) AND arrayMax(ks) >= {k}) AS later{k}" for k in range(n + 1)]
        group = {"age_group": "f[2]", "platform": "f[3]", "device_type": "f[4]"}.get(params.breakdown, "''")
        periods = "arrayDistinct(arrayMap(d -> toMonday(d), days))" if unit == "week" else "days"
        lo_us = p.add(micros(day_start(params.start)), "Int64")
        hi_us = p.add(micros(day_start(params.end + timedelta(days=1))), "Int64")
        first_day = "toDate(fromUnixTimestamp64Micro(first_us, 'UTC'))"
        # One pass over the per-type, per-user aggregate: each user's first start event
        # (the smallest `first` string: ties by event_id) and the days of return events.
        sql = f"""
            SELECT grp, cohort, count() AS size, {", ".join(columns)}
            FROM (
                SELECT {group} AS grp, {period.format(first_day)} AS cohort,
                       arrayFilter(x -> x >= 0,
                                   arrayMap(d -> intDiv(toInt32(d - cohort), {length}), {periods})) AS ks
                FROM (
                    SELECT user_id, minIf(first, event_type = {start_type}) AS fs,
                           groupUniqArrayArrayIf(days, event_type = {return_type}) AS days,
                           toInt64OrZero(substring(fs, 1, 20)) AS first_us, splitByChar('\\0', fs) AS f
                    FROM {self.db}.retention_users WHERE event_type IN ({start_type}, {return_type})
                    GROUP BY user_id
                    HAVING fs != '' AND first_us >= {lo_us} AND first_us < {hi_us} {first_filters}
                )
            )
            GROUP BY grp, cohort ORDER BY grp, cohort
        """
        rows = await self.fetch(sql, p)
        cohorts = {
            (r["grp"], r["cohort"]): {
                "size": int(r["size"]),
                "in": [int(r[f"in{k}"]) for k in range(n + 1)],
                "or_later": [int(r[f"later{k}"]) for k in range(n + 1)],
            }
            for r in rows
        }
        return dict(sorted(cohorts.items())), "raw"

    # --- reports over raw events --------------------------------------------------------

    def _range(self, p: Params, lo: datetime, hi: datetime) -> str:
        return f"ts >= {p.time(lo)} AND ts < {p.time(hi)}"

    async def story_creation(self, lo, hi, granularity, filters, breakdown) -> list:
        p = Params()
        where = f"event_type = 'story_creation' AND {self._range(p, lo, hi)} AND {dims_filter(p, filters)}"
        figures = """count() AS stories, uniqExact(user_id) AS creators,
                     quantileExactInclusive(0.5)(toFloat64(creation_time)) AS median,
                     quantileExactInclusive(0.9)(toFloat64(creation_time)) AS p90"""
        rows = await self.fetch(
            f"""SELECT 0 AS is_total, {_BUCKET[granularity]} AS bucket, {BREAKDOWN[breakdown]} AS grp,
                       {figures}
                FROM {self._events()} WHERE {where} GROUP BY bucket, grp ORDER BY bucket, grp""",
            p,
        )
        total = await self.fetch(f"SELECT 1 AS is_total, {figures} FROM {self._events()} WHERE {where}", p)
        # As GROUPING SETS ((...), ()) in PostgreSQL: a totals row even over no events.
        out = [_nulls(r, ("median", "p90")) for r in rows]
        out.append(_nulls({**total[0], "bucket": None, "grp": None}, ("median", "p90")))
        return out

    async def feature_usage(self, lo, hi, granularity, filters, breakdown) -> list:
        p = Params()
        where = f"event_type = 'feature_used' AND {self._range(p, lo, hi)} AND {dims_filter(p, filters)}"
        feature, grp = "ifNull(feature, '')", BREAKDOWN[breakdown]
        figures = "count() AS uses, uniqExact(user_id) AS users"
        events = self._events()
        rows = await self.fetch(
            f"""SELECT 0 AS level, {_BUCKET[granularity]} AS bucket, {feature} AS feature, {grp} AS grp,
                       {figures}
                FROM {events} WHERE {where} GROUP BY bucket, feature, grp ORDER BY bucket, feature, grp""",
            p,
        )
        rows += await self.fetch(
            f"""SELECT 4 AS level, {feature} AS feature, {grp} AS grp, {figures}
                FROM {events} WHERE {where} GROUP BY feature, grp ORDER BY feature, grp""",
            p,
        )
        total = await self.fetch(f"SELECT 7 AS level, {figures} FROM {events} WHERE {where}", p)
        rows.append({**total[0], "bucket": None, "feature": None, "grp": None})
        return rows

    async def daily_activity(self, lo: datetime, hi: datetime) -> list:
        p = Params()
        channels = "".join(
            f", countIf(event_type = {p.add(t, 'String')}) AS {c}" for t, c in EVENT_CHANNELS.items()
        )
        start = p.add("session_start", "String")
        last = ", ".join(
            f"argMaxIf({d}, (ts, event_id), {d} IS NOT NULL) AS {d}"
            for d in ("age_group", "device_type", "platform")
        )
        rows = await self.fetch(
            f"""SELECT user_id, toDate(ts) AS day, count() AS events{channels},
                       countIf(event_type = {start} AND toHour(ts) >= {EVENING_HOUR}) AS evening_sessions,
                       {last}, max(ts) AS last_ts
                FROM {self._events()} WHERE {self._range(p, lo, hi)}
                GROUP BY user_id, day ORDER BY day""",
            p,
        )
        for row in rows:
            row["last_ts"] = _utc(row["last_ts"])
        return rows

    async def first_seen(self, user_ids: Sequence[str]) -> dict[str, datetime]:
        if not user_ids:
            return {}
        p = Params()
        ids = p.add(list(user_ids), "Array(String)")
        rows = await self.fetch(
            f"SELECT user_id, min(ts) AS first_ts FROM {self._events()}"
            f" WHERE has({ids}, user_id) GROUP BY user_id",
            p,
        )
        return {r["user_id"]: _utc(r["first_ts"]) for r in rows}

    async def active_users(self, lo, hi, filters) -> int:
        p = Params()
        rows = await self.fetch(
            f"SELECT uniqExact(user_id) AS n FROM {self._events()}"
            f" WHERE {self._range(p, lo, hi)} AND {dims_filter(p, filters)}",
            p,
        )
        return int(rows[0]["n"])

    async def engagement(self, lo, hi, granularity, filters, breakdown) -> list:
        p = Params()
        where = f"session_id IS NOT NULL AND {self._range(p, lo, hi)} AND {dims_filter(p, filters)}"
        sessions = f"""
            SELECT user_id, min(ts) AS started, count() AS events,
                   (toUnixTimestamp64Micro(max(ts)) - toUnixTimestamp64Micro(min(ts))) / 1e6 AS seconds,
                   argMin({BREAKDOWN[breakdown]}, (ts, event_id)) AS grp
            FROM {self._events()} WHERE {where} GROUP BY user_id, session_id"""
        figures = """count() AS sessions, uniqExact(user_id) AS users, avg(events) AS events_per_session,
                     avg(seconds) AS mean_seconds, quantileExactInclusive(0.5)(seconds) AS median_seconds"""
        bucket = _BUCKET[granularity].replace("ts", "started")
        rows = await self.fetch(
            f"""SELECT 0 AS is_total, {bucket} AS bucket, grp, {figures} FROM ({sessions})
                GROUP BY bucket, grp ORDER BY bucket, grp""",
            p,
        )
        total = await self.fetch(f"SELECT 1 AS is_total, {figures} FROM ({sessions})", p)
        names = ("events_per_session", "mean_seconds", "median_seconds")
        rows.append(_nulls({**total[0], "bucket": None, "grp": None}, names))
        return rows

    async def content(self, params: ReportParams) -> tuple[list, str]:
        p = Params()
        lo, hi = day_start(params.start), day_start(params.end + timedelta(days=1))
        grp = BREAKDOWN[params.breakdown] if params.breakdown else "''"
        rows = await self.fetch(
            f"""SELECT toDate(ts) AS day, item.1 AS kind, item.2 AS key, {grp} AS grp, count() AS uses
                FROM {self._events()} ARRAY JOIN {CONTENT_ITEMS.format(pairs="")} AS item
                WHERE event_type = 'story_creation' AND {self._range(p, lo, hi)}
                  AND {dims_filter(p, params.filters)}
                GROUP BY day, kind, key, grp ORDER BY day, kind, key, grp""",
            p,
        )
        return rows, "raw"

    async def ingestion_lag(self, lo, hi, granularity) -> list:
        p = Params()
        # A timestamp, as date_trunc gives (the performance report labels it).
        bucket = {
            "hour": "toStartOfHour(stored_at)",
            "day": "toStartOfDay(stored_at)",
            "week": "toDateTime(toMonday(stored_at), 'UTC')",
        }[granularity]
        rows = await self.fetch(
            f"""SELECT {bucket} AS bucket, count() AS events,
                       quantilesExactInclusive(0.5, 0.99)(
                           (toUnixTimestamp64Micro(stored_at) - toUnixTimestamp64Micro(received_at)) / 1e6
                       ) AS lag
                FROM {self._events()} WHERE stored_at >= {p.time(lo)} AND stored_at < {p.time(hi)}
                GROUP BY bucket ORDER BY bucket""",
            p,
        )
        return [{**r, "lag": [_number(v) for v in r["lag"]]} for r in rows]

    async def exposed_users(self, keys: list[str], since: list[datetime]) -> dict[str, int]:
        out = {}
        for key, start in zip(keys, since, strict=True):
            p = Params()
            rows = await self.fetch(
                f"""SELECT uniqExact(user_id) AS n FROM {self._events()}
                    WHERE event_type = 'experiment_exposure' AND ts >= {p.time(start)}
                      AND JSONExtractString(ifNull(props, '{{}}'), 'experiment_key')
                          = {p.add(key, "String")}""",
                p,
            )
            out[key] = int(rows[0]["n"])
        return out

    # --- experiments --------------------------------------------------------------------

    def _exposed(self, p: Params, key: str, lo: datetime, hi: datetime, filters: Filters) -> str:
        """experiments/queries.py's `exposed`: per user, the first exposure to `key` in
        [lo, hi), the (smallest) variant and how many variants they saw."""
        variant = _VARIANT
        return f"""
            SELECT user_id, min(ts) AS first_ts, min({variant}) AS variant, uniqExact({variant}) AS variants
            FROM {self._events()}
            WHERE event_type = 'experiment_exposure' AND {self._range(p, lo, hi)}
              AND {dims_filter(p, filters)} AND {_EXPERIMENT_KEY} = {p.add(key, "String")}
            GROUP BY user_id"""

    async def experiment_exposures(
        self, key: str, lo: datetime, hi: datetime, filters: Filters, since: datetime | None
    ) -> tuple[dict[str, int], dict[str, int], int]:
        p = Params()
        exposed = self._exposed(p, key, lo, hi, filters)
        recent = "1" if since is None else f"first_ts >= {p.time(since)}"
        rows = await self.fetch(
            f"""SELECT variant, variants > 1 AS mixed, count() AS users, countIf({recent}) AS users_since
                FROM ({exposed}) GROUP BY variant, mixed""",
            p,
        )
        users = {r["variant"]: int(r["users"]) for r in rows if not r["mixed"]}
        since_users = {r["variant"]: int(r["users_since"]) for r in rows if not r["mixed"]}
        return users, since_users, sum(int(r["users"]) for r in rows if r["mixed"])

    async def experiment_moments(
        self, metric: Metric, key: str, lo: datetime, hi: datetime, filters: Filters
    ) -> dict[str, dict]:
        """As experiments/queries.py: each exposed user's events within ± the metric window
        of the first exposure give y and x; n, Σy, Σy², Σx, Σx², Σxy per variant. Users
        without such events keep a row (LEFT JOIN: default columns, outside every window)."""
        p = Params()
        exposed = self._exposed(p, key, lo, hi, filters)
        window = p.add(metric.window_hours * 3_600_000_000, "Int64")
        num = step_predicate(metric.step(), p)
        value = PROPERTY_SQL.get(metric.property, "toNullable(1.0)")
        den, den_value, match = "0", "toNullable(1.0)", num
        if metric.kind == "ratio":
            den = step_predicate(metric.denominator_step(), p)
            den_value = PROPERTY_SQL.get(metric.denominator_property, "toNullable(1.0)")
            match = f"({num} OR {den})"
        d = "(ev.t - toUnixTimestamp64Micro(u.first_ts))"
        post, pre = f"{d} >= 0 AND {d} < {window}", f"{d} < 0 AND {d} >= -{window}"

        def mean(when: str) -> str:
            some = f"{when} AND ev.is_num AND ev.value IS NOT NULL"
            return f"if(countIf({some}) = 0, NULL, sumIf(assumeNotNull(ev.value), {some}) / countIf({some}))"

        if metric.kind == "conversion":
            y = f"toFloat64(countIf({post} AND ev.is_num) > 0)"
            x = f"toFloat64(countIf({pre} AND ev.is_num) > 0)"
        elif metric.kind == "mean":
            y, x = mean(post), f"ifNull({mean(pre)}, 0)"
        else:
            y = f"sumIf(ifNull(ev.value, 0), {post} AND ev.is_num)"
            x = f"sumIf(ifNull(ev.den_value, 0), {post} AND ev.is_den)"
        lo_w = p.add(micros(lo) - metric.window_hours * 3_600_000_000, "Int64")
        hi_w = p.add(micros(hi) + metric.window_hours * 3_600_000_000, "Int64")
        sql = f"""
            WITH exposed AS ({exposed})
            SELECT variant, count() AS n, sum(y) AS sy, sum(y * y) AS syy,
                   sum(x) AS sx, sum(x * x) AS sxx, sum(x * y) AS sxy
            FROM (
                SELECT u.user_id, u.variant AS variant, {y} AS y, {x} AS x
                FROM (SELECT user_id, variant, first_ts FROM exposed WHERE variants = 1) AS u
                LEFT JOIN (
                    SELECT user_id, toUnixTimestamp64Micro(ts) AS t, {num} AS is_num, {den} AS is_den,
                           {value} AS value, {den_value} AS den_value
                    FROM {self._events()}
                    WHERE {match} AND ts >= fromUnixTimestamp64Micro({lo_w}, 'UTC')
                      AND ts < fromUnixTimestamp64Micro({hi_w}, 'UTC')
                      AND user_id IN (SELECT user_id FROM exposed)
                ) AS ev ON ev.user_id = u.user_id
                GROUP BY u.user_id, u.variant
            )
            WHERE y IS NOT NULL GROUP BY variant"""
        return {r["variant"]: r for r in await self.fetch(sql, p)}

    async def recommendation_clicks(self, params: DashboardParams) -> tuple[list, str]:
        p = Params()
        lo, hi = day_start(params.start), day_start(params.end + timedelta(days=1))
        rows = await self.fetch(
            f"""SELECT ifNull({_REC_TYPE}, '') AS recommendation_type,
                       ifNull({_MODEL_VERSION}, '') AS model_version,
                       countIf(event_type = 'recommendation_shown') AS shown,
                       countIf(event_type = 'recommendation_clicked') AS clicked
                FROM {self._events()}
                WHERE event_type IN ('recommendation_shown', 'recommendation_clicked')
                  AND {self._range(p, lo, hi)} AND {dims_filter(p, params.filters)}
                GROUP BY recommendation_type, model_version""",
            p,
        )
        return rows, "raw"

    async def close(self) -> None:
        client = self.client
        if client is not None:
            await self._call(client.close)
        self._thread.shutdown(wait=False)


def _day(row: dict) -> date:
    return row["d"]


def _utc(at: datetime) -> datetime:
    """chDB hands DateTime64('UTC') back without its zone; PostgreSQL's timestamptz has it."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def _identifier(name: str) -> str:
    """A cluster name from the settings, as a quoted identifier."""
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def _params(**values: tuple[Any, str]) -> Params:
    p = Params()
    p.values.update({name: value for name, (value, _) in values.items()})
    return p


def _nulls(row: dict, names: tuple[str, ...]) -> dict:
    """Averages and quantiles of no values come back as NaN: NULL, as PostgreSQL says."""
    return {**row, **{name: _number(row[name]) for name in names}}


def _storable(row: tuple) -> tuple:
    values = list(row)
    values[7] = values[7] or []  # universes
    values[8] = values[8] or []  # characters
    return tuple(values)
