"""The SQL of predicted retention: the daily activity read from the analytics service's own
`events` table, the models and predictions written by the training job, and what the
churn_risk report and the dashboard read of them. Parameterized throughout.

The daily activity and first events are PostgreSQL's side of the event store protocol
(eventstore/postgres.py); the ClickHouse store answers the same from its events table.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from analytics_svc.churn.activity import EVENING_HOUR, EVENT_CHANNELS
from analytics_svc.requests import Filters

# A training run takes its time reading a few weeks of events: its statements get longer
# than serving calls do.
STATEMENT_TIMEOUT = "10min"
CLIENT_TIMEOUT_SECONDS = 10 * 60 + 5

# Per user and day: every event, each channel of activity.CHANNELS that events feed, the last
# known context that day (ties by event_id), and the time of the user's last event of the day.
_CHANNELS_SQL = ",\n       ".join(
    f"count(*) FILTER (WHERE event_type = '{event_type}') AS {channel}"
    for event_type, channel in EVENT_CHANNELS.items()
)
DAILY_ACTIVITY = f"""
SELECT user_id, (ts AT TIME ZONE 'UTC')::date AS day,
       count(*) AS events,
       {_CHANNELS_SQL},
       count(*) FILTER (WHERE event_type = 'session_start'
                        AND extract(hour FROM ts AT TIME ZONE 'UTC') >= {EVENING_HOUR}) AS evening_sessions,
       (array_agg(age_group ORDER BY ts DESC, event_id DESC)
          FILTER (WHERE age_group IS NOT NULL))[1] AS age_group,
       (array_agg(device_type ORDER BY ts DESC, event_id DESC)
          FILTER (WHERE device_type IS NOT NULL))[1] AS device_type,
       (array_agg(platform ORDER BY ts DESC, event_id DESC)
          FILTER (WHERE platform IS NOT NULL))[1] AS platform,
       max(ts) AS last_ts
FROM events
WHERE ts >= $1 AND ts < $2
GROUP BY 1, 2
ORDER BY 2
"""  # noqa: S608 - the channel names are ours

FIRST_SEEN = """
SELECT user_id, min(first_ts) AS first_ts
FROM user_first_events
WHERE user_id = ANY($1::text[])
GROUP BY user_id
"""


async def daily_activity(pool: asyncpg.Pool, lo: datetime, hi: datetime) -> list[asyncpg.Record]:
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        await conn.execute(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'")
        return await conn.fetch(DAILY_ACTIVITY, lo, hi, timeout=CLIENT_TIMEOUT_SECONDS)


async def first_seen(pool: asyncpg.Pool, user_ids: Sequence[str]) -> dict[str, datetime]:
    """The first event of each user ever seen (the retention cohorts' table)."""
    rows = await pool.fetch(FIRST_SEEN, list(user_ids), timeout=CLIENT_TIMEOUT_SECONDS)
    return {r["user_id"]: r["first_ts"] for r in rows}


async def last_trained(pool: asyncpg.Pool) -> datetime | None:
    return await pool.fetchval("SELECT max(trained_at) FROM churn_models")


@dataclass(frozen=True)
class PredictionRow:
    user_id: str
    age_group: str
    platform: str
    device_type: str
    cohort_week: date
    p_return_7d: float
    p_return_28d: float
    factors: list[float]


async def save(
    pool: asyncpg.Pool,
    scored_day: date,
    model: dict,
    rows: dict[int, int],
    predictions: Sequence[PredictionRow],
) -> int:
    """A new model and its predictions replace the previous predictions, in one transaction;
    the model's id."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'")
        model_id = await conn.fetchval(
            "INSERT INTO churn_models (scored_day, train_rows_7d, train_rows_28d, children_scored, model) "
            "VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING id",
            scored_day,
            rows.get(7, 0),
            rows.get(28, 0),
            len(predictions),
            json.dumps(model),
        )
        await conn.execute("DELETE FROM churn_predictions")
        await conn.copy_records_to_table(
            "churn_predictions",
            records=[
                (
                    p.user_id,
                    model_id,
                    p.age_group,
                    p.platform,
                    p.device_type,
                    p.cohort_week,
                    p.p_return_7d,
                    p.p_return_28d,
                    p.factors,
                )
                for p in predictions
            ],
            columns=[
                "user_id",
                "model_id",
                "age_group",
                "platform",
                "device_type",
                "cohort_week",
                "p_return_7d",
                "p_return_28d",
                "factors",
            ],
            timeout=CLIENT_TIMEOUT_SECONDS,
        )
        # Keep the last few models only (their JSON is small, but nothing reads older ones).
        await conn.execute("DELETE FROM churn_models WHERE id < $1 - 9", model_id)
    return model_id


@dataclass
class Scored:
    """The predictions the report reads, with the model they came from."""

    model_id: int | None = None
    trained_at: datetime | None = None
    scored_day: date | None = None
    train_rows_7d: int = 0
    train_rows_28d: int = 0
    features: list[str] | None = None
    rows: list[asyncpg.Record] | None = None


def _where(p: str = "") -> str:
    """The filters ($1-$3) and the cohort weeks ($4, $5) on churn_predictions (alias `p`)."""
    return (
        f" WHERE ($1 = '' OR {p}age_group = $1) AND ($2 = '' OR {p}platform = $2)"
        f" AND ($3 = '' OR {p}device_type = $3)"
        f" AND ($4::date IS NULL OR {p}cohort_week >= $4) AND ($5::date IS NULL OR {p}cohort_week <= $5) "
    )


async def scored(
    pool: asyncpg.Pool,
    filters: Filters,
    cohorts_from: date | None = None,
    cohorts_to: date | None = None,
    with_factors: bool = True,
) -> Scored:
    """The latest model and its predictions matching the filters (cohort weeks in the range)."""
    model = await pool.fetchrow(
        "SELECT id, trained_at, scored_day, train_rows_7d, train_rows_28d, model->'features' AS features "
        "FROM churn_models ORDER BY id DESC LIMIT 1"
    )
    if model is None:
        return Scored(rows=[])
    columns = "age_group, platform, device_type, cohort_week, p_return_7d, p_return_28d"
    if with_factors:
        columns += ", factors"
    rows = await pool.fetch(
        f"SELECT {columns} FROM churn_predictions{_where()}AND model_id = $6",  # noqa: S608 - ours
        filters.age_group,
        filters.platform,
        filters.device_type,
        cohorts_from,
        cohorts_to,
        model["id"],
    )
    return Scored(
        model["id"],
        model["trained_at"],
        model["scored_day"],
        model["train_rows_7d"],
        model["train_rows_28d"],
        json.loads(model["features"]),
        rows,
    )


@dataclass(frozen=True)
class AtRisk:
    active_children: int = 0
    at_risk: int = 0
    mean_7d: float = 0.0
    mean_28d: float = 0.0
    by_age_group: tuple[tuple[str, int, int], ...] = ()  # (age group, children, at risk)
    trained_at: datetime | None = None


async def at_risk(pool: asyncpg.Pool, filters: Filters, threshold: float) -> AtRisk:
    """The dashboard's figures: children scored by the latest model, those at risk, by age group."""
    rows = await pool.fetch(
        "SELECT p.age_group, count(*) AS children, "
        "       count(*) FILTER (WHERE p.p_return_7d < $6) AS at_risk, "
        "       sum(p.p_return_7d) AS sum_7d, sum(p.p_return_28d) AS sum_28d, "
        "       max(m.trained_at) AS trained_at "
        "FROM churn_predictions p JOIN churn_models m ON m.id = p.model_id "
        f"{_where('p.')}AND p.model_id = (SELECT max(id) FROM churn_models) "
        "GROUP BY p.age_group ORDER BY p.age_group",
        filters.age_group,
        filters.platform,
        filters.device_type,
        None,
        None,
        threshold,
    )
    children = sum(r["children"] for r in rows)
    if not children:
        return AtRisk()
    return AtRisk(
        children,
        sum(r["at_risk"] for r in rows),
        sum(r["sum_7d"] for r in rows) / children,
        sum(r["sum_28d"] for r in rows) / children,
        tuple((r["age_group"], r["children"], r["at_risk"]) for r in rows),
        max(r["trained_at"] for r in rows),
    )
