"""What the analytics service erases of a user: its erasure steps (common/privacy/steps.py).

Raw events, rejected events (whatever their payload held; a dead-lettered Kafka message
is keyed by its user), the per-user rollups that funnels and retention cohorts read
(daily activity, first events, per-day event sequences, activity), the real-time active
users and the experiment assignments. Rollups that only hold counts (daily_event_counts,
daily_content, ...) are kept. What the process holds in memory (real-time counters not yet
flushed) is forgotten by RealtimeCounters.forget; data still in flight is dropped on
arrival (erased.py).
"""

from __future__ import annotations

import asyncpg

from common.privacy.steps import ErasureStep, table_step

_REJECTED = (
    "jsonb_typeof(payload) = 'object' AND "
    "(payload->>'user_id' = $1 OR (source = 'kafka-dlq' AND payload->>'key' = $1))"
)


def erasure_steps(pool: asyncpg.Pool) -> list[ErasureStep]:
    return [
        table_step(pool, "events", "user_id = $1"),
        table_step(pool, "failed_events", _REJECTED),
        table_step(pool, "daily_user_activity", "user_id = $1"),
        table_step(pool, "user_first_events", "user_id = $1"),
        table_step(pool, "user_day_sequences", "user_id = $1"),
        table_step(pool, "user_activity", "user_id = $1"),
        table_step(pool, "realtime_minute_users", "user_id = $1"),
        table_step(pool, "experiment_assignments", "user_id = $1"),
    ]
