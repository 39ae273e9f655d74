"""Erasure of one user's recommendation data.

Interactions are read from the events table (erased by analytics_svc/erasure.py);
what the engine keeps itself is the real-time features, in memory or in Redis.
They are dropped when the erasure is announced on the bus (topic "privacy.erasure"):

    subscribe_features(runtime.bus, features, group)     # in reco_svc/service.py's build
"""

from __future__ import annotations

import asyncpg

from common.bus.base import BusMessage, EventBus
from common.privacy.erasure import ERASURE_TOPIC, erased_user_ids
from common.privacy.tables import delete_where


async def erase_user(conn: asyncpg.Connection, user_id: str) -> dict[str, int]:
    # Tables of the serving branch that may name users; absent ones count 0.
    return {"reco_interactions": await delete_where(conn, "reco_interactions", "user_id = $1", user_id)}


async def forget_features(features: object, user_id: str) -> None:
    """Drop a user's features from a feature store (its `forget`, else an empty entry)."""
    forget = getattr(features, "forget", None)
    if forget is not None:
        await forget(user_id)
        return
    from reco_svc.features import UserFeatures  # the serving branch's store

    await features.put(user_id, UserFeatures(loaded=True))  # type: ignore[attr-defined]


def subscribe_features(bus: EventBus, features: object, group: str = "reco-features") -> None:
    """Every replica keeps its own features, so with Kafka each needs its own group."""

    async def handle(messages: list[BusMessage]) -> None:
        for user_id in erased_user_ids(messages):
            await forget_features(features, user_id)

    bus.subscribe(ERASURE_TOPIC, group, handle)
