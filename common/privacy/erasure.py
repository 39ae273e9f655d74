"""The right to erasure: a request starts a durable job that every service works on.

    erasure = await request_erasure(pool, bus, "user-1", requested_by="key:1a2b3c")
    state = await wait_while_erasing(pool, erasure.audit_id, timeout=5.0)

In one transaction: the user is listed in `erased_users` by a salted SHA-256 (training
skips them, and the row is the tombstone that drops their data still in flight:
tombstones.py), the request is recorded in `privacy_audit` (the hash, never the id) and a
job is created with one step per registered erasure step (jobs.py). After the commit the
erasure is announced on the bus topic "privacy.erasure": each process then forgets the user
from its memory and the services run their steps at once (participant.py). The
announcement only saves time: every process also finds new jobs and tombstones in
PostgreSQL at its next poll, so a bus that is down delays an erasure but never loses it.
Idempotent: a second request starts a new job and moves the tombstone to its time.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from common.bus.base import BusMessage, EventBus
from common.privacy import jobs

log = logging.getLogger(__name__)
ERASURE_TOPIC = "privacy.erasure"
# How long the request waits for the bus to take the announcement (Kafka unreachable: the
# services' polls find the job anyway).
ANNOUNCE_SECONDS = 2.0
WAIT_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class ErasureRequest:
    audit_id: int
    user_hash: str
    erased_at: datetime


@dataclass(frozen=True)
class Announced:
    user_id: str
    erased_at: datetime
    audit_id: int | None = None


async def user_hash(conn: asyncpg.Connection, user_id: str) -> str:
    salt = await conn.fetchval("SELECT salt FROM privacy_salt")
    return hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()


async def request_erasure(
    pool: asyncpg.Pool, bus: EventBus, user_id: str, requested_by: str, request_id: str = ""
) -> ErasureRequest:
    async with pool.acquire() as conn, conn.transaction():
        hashed = await user_hash(conn, user_id)
        erased_at = await conn.fetchval(
            "INSERT INTO erased_users (user_hash) VALUES ($1) "
            "ON CONFLICT (user_hash) DO UPDATE SET erased_at = now() RETURNING erased_at",
            hashed,
        )
        audit_id = await conn.fetchval(
            "INSERT INTO privacy_audit (user_hash, requested_by, request_id, deleted) "
            "VALUES ($1, $2, $3, '{}'::jsonb) RETURNING id",
            hashed,
            requested_by,
            request_id,
        )
        await jobs.create_job(conn, audit_id, hashed, user_id)
    erasure = ErasureRequest(audit_id, hashed, erased_at)
    try:
        async with asyncio.timeout(ANNOUNCE_SECONDS):
            await bus.publish(ERASURE_TOPIC, [erasure_message(user_id, erasure)])
    except Exception:  # noqa: BLE001 - the job is durable; the polls pick it up
        log.warning(
            "erasure not announced on the bus", extra={"fields": {"audit_id": audit_id}}, exc_info=True
        )
    log.info("user erasure requested", extra={"fields": {"user_hash": hashed, "audit_id": audit_id}})
    return erasure


async def wait_while_erasing(pool: asyncpg.Pool, audit_id: int, timeout: float) -> str | None:
    """The job's state once its first pass is over, or when `timeout` seconds have passed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        state = await jobs.state_of(pool, audit_id)
        if state != jobs.ERASING or loop.time() >= deadline:
            return state
        await asyncio.sleep(WAIT_POLL_SECONDS)


async def adopt(pool: asyncpg.Pool, announced: Announced) -> bool:
    """A service on a database of its own takes up an erasure requested elsewhere: the same
    job (by the requester's audit id) with the steps registered in this database, and the
    tombstone under this database's salt. True when the job is new here; nothing happens
    where the job exists already (the database the request was made in, or adopted before)."""
    if announced.audit_id is None:
        return False
    async with pool.acquire() as conn, conn.transaction():
        if await conn.fetchval("SELECT true FROM erasure_jobs WHERE audit_id = $1", announced.audit_id):
            return False
        hashed = await user_hash(conn, announced.user_id)
        await conn.execute(
            "INSERT INTO erased_users (user_hash, erased_at) VALUES ($1, $2) ON CONFLICT (user_hash)"
            " DO UPDATE SET erased_at = greatest(erased_users.erased_at, EXCLUDED.erased_at)",
            hashed,
            announced.erased_at,
        )
        # Replicas adopting together: the first insert wins, the others wait for it and stop here.
        adopted = await conn.fetchval(
            "INSERT INTO privacy_audit (id, user_hash, requested_by, deleted)"
            " VALUES ($1, $2, 'announcement', '{}'::jsonb) ON CONFLICT (id) DO NOTHING RETURNING id",
            announced.audit_id,
            hashed,
        )
        if adopted is None:
            return False
        await jobs.create_job(conn, announced.audit_id, hashed, announced.user_id)
    log.info("erasure adopted", extra={"fields": {"user_hash": hashed, "audit_id": announced.audit_id}})
    return True


def erasure_message(user_id: str, erasure: ErasureRequest) -> BusMessage:
    # Keyed by the hash; the id itself is needed by the stores keyed on it. The topic's
    # retention is the tombstones' (common/bus/topics.py), so it holds ids no longer than they do.
    payload = {"user_id": user_id, "audit_id": erasure.audit_id, "erased_at": erasure.erased_at.isoformat()}
    return BusMessage(erasure.user_hash.encode(), json.dumps(payload).encode())


def read_announcements(messages: Iterable[BusMessage]) -> list[Announced]:
    """The erasures announced in a batch of privacy.erasure messages (malformed ones skipped)."""
    found = []
    for message in messages:
        try:
            data = json.loads(message.value)
            user_id, erased_at = data["user_id"], datetime.fromisoformat(data["erased_at"])
            if not isinstance(user_id, str) or erased_at.tzinfo is None:
                raise TypeError("incomplete")
        except (ValueError, KeyError, TypeError):
            log.warning("malformed erasure message skipped")
            continue
        audit_id = data.get("audit_id")
        found.append(Announced(user_id, erased_at, audit_id if isinstance(audit_id, int) else None))
    return found
