"""What the analytics service erases of a user: its erasure steps (common/privacy/steps.py).

Raw events, rejected events (whatever their payload held; a dead-lettered Kafka message
is keyed by its user), the per-user rollups that funnels and retention cohorts read
(daily activity, first events, per-day event sequences, activity), the real-time active
users, the experiment assignments and the predicted retention (churn_predictions). Rollups
that only hold counts (daily_event_counts, daily_content, ...) and the retention models
(churn_models: coefficients, no user ids) are kept. What the process holds in memory
(real-time counters not yet flushed) is forgotten by RealtimeCounters.forget; data still
in flight is dropped on arrival (erased.py).
"""

from __future__ import annotations

import asyncpg

from analytics_svc.eventstore.base import EventStore
from common.privacy.steps import ErasureStep, table_step

_REJECTED = (
    "jsonb_typeof(payload) = 'object' AND "
    "(payload->>'user_id' = $1 OR (source = 'kafka-dlq' AND payload->>'key' = $1))"
)


def erasure_steps(pool: asyncpg.Pool, events: EventStore | None = None) -> list[ErasureStep]:
    """`events`: where raw events are kept when not in PostgreSQL (eventstore/)."""
    raw = table_step(pool, "events", "user_id = $1")
    if events is not None and events.name != "postgres":
        raw = ErasureStep(f"{events.name}_events", f"{events.name} events", events.erase_user)
    return [
        raw,
        table_step(pool, "failed_events", _REJECTED),
        table_step(pool, "daily_user_activity", "user_id = $1"),
        table_step(pool, "user_first_events", "user_id = $1"),
        table_step(pool, "user_day_sequences", "user_id = $1"),
        table_step(pool, "user_activity", "user_id = $1"),
        table_step(pool, "realtime_minute_users", "user_id = $1"),
        table_step(pool, "experiment_assignments", "user_id = $1"),
        table_step(pool, "churn_predictions", "user_id = $1"),
    ]
