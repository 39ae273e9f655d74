"""Who was erased lately, so that data of theirs still in flight is dropped instead of written.

    tombstones = Tombstones(retention=7 * 86400)
    await tombstones.refresh(pool)                       # from erased_users (and at every poll)
    tombstones.covers("user-1", event_ts, received_at)   # True: drop it

An event, a rating or a feature of an erased user that happened or arrived at or before the
erasure is covered: it was on its way (a Kafka topic, a consumer's batch, an offline
device) while the user's data was being removed. Data from after the erasure is not. A
tombstone lives as long as the bus keeps messages (SV_ERASURE_TOMBSTONE_DAYS, the topics'
retention): older messages cannot arrive anymore.

Users are known by the salted hash of erased_users (the ids are not kept): each check
hashes the id once (~0.5 µs), and nothing at all while no tombstone is live.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

# How far back each refresh reads again (longer than an erasure request's transaction).
OVERLAP = timedelta(minutes=1)


@dataclass(frozen=True)
class Erased:
    user_hash: str
    erased_at: datetime
    # Known while the user's erasure job runs (the replicas forget it from memory then).
    user_id: str | None


class Tombstones:
    def __init__(self, retention: float, salt: str | None = None) -> None:
        """salt: the database's (privacy_salt), read by the first refresh when not given."""
        self.retention = retention
        self._erased: dict[str, datetime] = {}  # user hash -> when the user was last erased
        # sha256 fed with "<salt>:", copied for each id (common.privacy.erasure.user_hash)
        self._prefix = None if salt is None else hashlib.sha256(f"{salt}:".encode())
        self._read_until: datetime | None = None  # the database's clock at the last refresh
        self._refreshed = float("-inf")  # time.monotonic() of the last refresh

    def age(self) -> float:
        """Seconds since the last refresh (a process paused meanwhile: all of the pause)."""
        return time.monotonic() - self._refreshed

    def __len__(self) -> int:
        return len(self._erased)

    def hash(self, user_id: str) -> str:
        assert self._prefix is not None, "refresh() first: the salt is read from the database"
        digest = self._prefix.copy()
        digest.update(user_id.encode())
        return digest.hexdigest()

    def erased_at(self, user_id: str) -> datetime | None:
        if not self._erased:
            return None
        return self._erased.get(self.hash(user_id))

    def covers(self, user_id: str, *times: datetime | None) -> bool:
        """Whether data of the user dated `times` (when it happened, when it was received)
        predates the user's erasure; no time: any data of an erased user."""
        if not self._erased:
            return False
        erased_at = self._erased.get(self.hash(user_id))
        if erased_at is None:
            return False
        known = [t for t in times if t is not None]
        return not known or min(known) <= erased_at

    def learn(self, user_hash: str, erased_at: datetime) -> bool:
        """Add or move a tombstone; True when it is new or later than the one known."""
        known = self._erased.get(user_hash)
        if known is not None and known >= erased_at:
            return False
        self._erased[user_hash] = erased_at
        return True

    async def refresh(self, pool: asyncpg.Pool) -> list[Erased]:
        """Read the tombstones set since the last refresh; returns those not known before (with
        the user id while the user's job still holds it). Tombstones past the retention go."""
        async with pool.acquire() as conn:
            if self._prefix is None:
                salt = await conn.fetchval("SELECT salt FROM privacy_salt")
                self._prefix = hashlib.sha256(f"{salt}:".encode())
            now = await conn.fetchval("SELECT now()")
            # Only what is new (an index range), with an overlap: erased_at is its transaction's
            # start, so a row committed late may carry a time just before the last refresh.
            since = now - timedelta(seconds=self.retention)
            if self._read_until is not None:
                since = max(since, self._read_until - OVERLAP)
            rows = await conn.fetch(
                """SELECT e.user_hash, e.erased_at,
                          (SELECT j.user_id FROM erasure_jobs j
                            WHERE j.user_hash = e.user_hash AND j.user_id IS NOT NULL LIMIT 1) AS user_id
                     FROM erased_users e WHERE e.erased_at > $1""",
                since,
            )
        self._read_until = now
        self._refreshed = time.monotonic()
        horizon = now - timedelta(seconds=self.retention)
        for gone in [h for h, at in self._erased.items() if at <= horizon]:
            del self._erased[gone]
        return [
            Erased(r["user_hash"], r["erased_at"], r["user_id"])
            for r in rows
            if self.learn(r["user_hash"], r["erased_at"])
        ]
