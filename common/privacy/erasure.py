"""The right to erasure, across services.

    result = await erase_user(pool, bus, "user-1", requested_by="key 1a2b3c")

In one transaction of the shared database: each service's erasure function deletes
its rows (ERASERS), the user is listed in `erased_users` (so training skips them)
and the request is recorded in `privacy_audit`. Both name the user by a salted
SHA-256 only. Then the erasure is announced on the bus topic "privacy.erasure" for
what lives outside PostgreSQL (the recommendation engine's feature store).
Idempotent: a second request finds nothing left and is recorded again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import asyncpg

from common.bus.base import BusMessage, EventBus

log = logging.getLogger(__name__)
ERASURE_TOPIC = "privacy.erasure"
Eraser = Callable[[asyncpg.Connection, str], Awaitable[dict[str, int]]]


def default_erasers() -> list[Eraser]:
    """Each service owns its erasure function; imported here so the admin RPC fans out to all."""
    from analytics_svc.erasure import erase_user as analytics
    from feedback_svc.erasure import erase_user as feedback
    from reco_svc.erasure import erase_user as reco

    return [analytics, feedback, reco]


@dataclass(frozen=True)
class Erasure:
    deleted: dict[str, int]
    audit_id: int
    user_hash: str


async def user_hash(conn: asyncpg.Connection, user_id: str) -> str:
    salt = await conn.fetchval("SELECT salt FROM privacy_salt")
    return hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()


async def erase_user(
    pool: asyncpg.Pool,
    bus: EventBus,
    user_id: str,
    requested_by: str,
    request_id: str = "",
    erasers: list[Eraser] | None = None,
) -> Erasure:
    deleted: dict[str, int] = {}
    async with pool.acquire() as conn, conn.transaction():
        for eraser in erasers if erasers is not None else default_erasers():
            deleted.update(await eraser(conn, user_id))
        hashed = await user_hash(conn, user_id)
        await conn.execute(
            "INSERT INTO erased_users (user_hash) VALUES ($1) "
            "ON CONFLICT (user_hash) DO UPDATE SET erased_at = now()",
            hashed,
        )
        audit_id = await conn.fetchval(
            "INSERT INTO privacy_audit (user_hash, requested_by, request_id, deleted) "
            "VALUES ($1, $2, $3, $4::jsonb) RETURNING id",
            hashed,
            requested_by,
            request_id,
            json.dumps(deleted),
        )
    # After the commit: consumers drop in-memory state. The message is keyed by the hash;
    # the id itself is needed by stores keyed on it (keep the topic's retention short).
    await bus.publish(ERASURE_TOPIC, [BusMessage(hashed.encode(), json.dumps({"user_id": user_id}).encode())])
    log.info("user data erased", extra={"fields": {"user_hash": hashed, "audit_id": audit_id, **deleted}})
    return Erasure(deleted, audit_id, hashed)


def erased_user_ids(messages: Iterable[BusMessage]) -> list[str]:
    """The user ids announced in a batch of privacy.erasure messages (malformed ones skipped)."""
    ids = []
    for message in messages:
        try:
            user_id = json.loads(message.value)["user_id"]
        except (ValueError, KeyError, TypeError):
            log.warning("malformed erasure message skipped")
            continue
        if isinstance(user_id, str):
            ids.append(user_id)
    return ids
