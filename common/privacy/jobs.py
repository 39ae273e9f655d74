"""The erasure job's state in PostgreSQL: the step registry, each job's steps, their passes.

    await register_steps(pool, "analytics", [("events", "PostgreSQL events"), ...])
    await create_job(conn, audit_id, user_hash, user_id)        # one row per registered step
    for claim in await claim_due(pool, ["events"], lease=300):  # leased: one runner at a time
        await finish(pool, claim, removed=12, verify_after=10)  # or fail(pool, claim, error, 4)
    await status(pool, audit_id)

A job passes through states: `erasing` (pass 1: every step removes what it finds),
`verifying` (each later pass starts `verify_after` seconds after the previous one ended and
runs every step again: writes that were in flight when a store was emptied are caught
here), `completed` once a verifying pass found nothing (or after MAX_PASSES passes, each of
which emptied every store). A step that fails is retried until it succeeds, `retry_after`
seconds later. Completion clears the job's user id and writes the counts into the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

ERASING, VERIFYING, COMPLETED = "erasing", "verifying", "completed"
# Pass 1 erases; passes 2.. verify. A store that keeps filling up again (the user is active
# again right after the erasure) does not hold the job open forever.
MAX_PASSES = 4


@dataclass(frozen=True)
class Claim:
    audit_id: int
    step: str
    pass_: int
    attempts: int
    user_id: str


@dataclass(frozen=True)
class StepStatus:
    step: str
    service: str
    store: str
    done: bool
    attempts: int
    last_error: str
    removed: int
    due_at: datetime | None


@dataclass(frozen=True)
class JobStatus:
    audit_id: int
    user_hash: str
    state: str
    pass_: int
    requested_at: datetime
    completed_at: datetime | None
    steps: list[StepStatus]

    @property
    def removed(self) -> dict[str, int]:
        return {s.step: s.removed for s in self.steps}


async def register_steps(pool: asyncpg.Pool, service: str, steps: Sequence[tuple[str, str]]) -> None:
    """The service's (step, store) list replaces what it registered before; steps it no longer
    has are dropped from the registry and from unfinished jobs (nobody would run them)."""
    names = [name for name, _ in steps]
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(
            "INSERT INTO erasure_steps (step, service, store) VALUES ($1, $2, $3) "
            "ON CONFLICT (step) DO UPDATE SET service = EXCLUDED.service, store = EXCLUDED.store, "
            "registered_at = now()",
            [(name, service, store) for name, store in steps],
        )
        await conn.execute(
            "DELETE FROM erasure_steps WHERE service = $1 AND NOT (step = ANY($2::text[]))", service, names
        )
        await conn.execute(
            "DELETE FROM erasure_job_steps WHERE service = $1 AND done_at IS NULL "
            "AND NOT (step = ANY($2::text[]))",
            service,
            names,
        )


async def create_job(conn: asyncpg.Connection, audit_id: int, user_hash: str, user_id: str) -> None:
    """Within the request's transaction: the job and one row per registered step, due now."""
    await conn.execute(
        "INSERT INTO erasure_jobs (audit_id, user_hash, user_id) VALUES ($1, $2, $3)",
        audit_id,
        user_hash,
        user_id,
    )
    await conn.execute(
        "INSERT INTO erasure_job_steps (audit_id, step, service) SELECT $1, step, service FROM erasure_steps",
        audit_id,
    )


async def claim_due(pool: asyncpg.Pool, steps: Sequence[str], lease: float, limit: int = 20) -> list[Claim]:
    """Due, unfinished job steps among `steps`; each is pushed `lease` seconds ahead so that no
    other replica runs it meanwhile (a runner that dies leaves it due again after the lease)."""
    rows = await pool.fetch(
        """WITH due AS (
               SELECT audit_id, step FROM erasure_job_steps
                WHERE done_at IS NULL AND due_at <= now() AND step = ANY($1::text[])
                ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)
           UPDATE erasure_job_steps s
              SET attempts = s.attempts + 1, due_at = now() + make_interval(secs => $3)
             FROM due, erasure_jobs j
            WHERE s.audit_id = due.audit_id AND s.step = due.step AND j.audit_id = s.audit_id
        RETURNING s.audit_id, s.step, s.pass, s.attempts, j.user_id""",
        list(steps),
        limit,
        float(lease),
    )
    return [Claim(r["audit_id"], r["step"], r["pass"], r["attempts"], r["user_id"]) for r in rows]


async def finish(pool: asyncpg.Pool, claim: Claim, removed: int, verify_after: float) -> None:
    """The step succeeded in its pass; the job moves on when it was the pass's last one."""
    async with pool.acquire() as conn, conn.transaction():
        # The job row first: every change of a job's steps' pass happens under this lock.
        await conn.execute("SELECT 1 FROM erasure_jobs WHERE audit_id = $1 FOR UPDATE", claim.audit_id)
        await conn.execute(
            "UPDATE erasure_job_steps SET done_at = now(), removed = removed + $4, found = $4, "
            "last_error = NULL WHERE audit_id = $1 AND step = $2 AND pass = $3 AND done_at IS NULL",
            claim.audit_id,
            claim.step,
            claim.pass_,
            removed,
        )
        await _advance(conn, claim.audit_id, verify_after)


async def fail(pool: asyncpg.Pool, claim: Claim, error: str, retry_after: float) -> None:
    await pool.execute(
        "UPDATE erasure_job_steps SET last_error = $4, due_at = now() + make_interval(secs => $5) "
        "WHERE audit_id = $1 AND step = $2 AND pass = $3 AND done_at IS NULL",
        claim.audit_id,
        claim.step,
        claim.pass_,
        error[:500],
        float(retry_after),
    )


async def advance_stalled(pool: asyncpg.Pool, verify_after: float) -> None:
    """Jobs left with no unfinished step but not moved on (their last steps were dropped from the
    registry, or no step was registered at all)."""
    stalled = await pool.fetch(
        """SELECT audit_id FROM erasure_jobs j WHERE state <> 'completed' AND NOT EXISTS
               (SELECT 1 FROM erasure_job_steps s WHERE s.audit_id = j.audit_id AND s.done_at IS NULL)"""
    )
    for row in stalled:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT 1 FROM erasure_jobs WHERE audit_id = $1 FOR UPDATE", row["audit_id"])
            await _advance(conn, row["audit_id"], verify_after)


async def _advance(conn: asyncpg.Connection, audit_id: int, verify_after: float) -> None:
    """Under the job's row lock: the next pass, or completion, once every step of the pass is done."""
    job = await conn.fetchrow("SELECT state, pass FROM erasure_jobs WHERE audit_id = $1", audit_id)
    if job is None or job["state"] == COMPLETED:
        return
    pending, found = await conn.fetchrow(
        "SELECT count(*) FILTER (WHERE done_at IS NULL), coalesce(sum(found), 0) "
        "FROM erasure_job_steps WHERE audit_id = $1",
        audit_id,
    )
    if pending:
        return
    if job["state"] == ERASING or (found > 0 and job["pass"] < MAX_PASSES):
        await conn.execute(
            "UPDATE erasure_jobs SET state = $2, pass = pass + 1 WHERE audit_id = $1", audit_id, VERIFYING
        )
        await conn.execute(
            "UPDATE erasure_job_steps SET pass = pass + 1, done_at = NULL, found = 0, "
            "due_at = now() + make_interval(secs => $2) WHERE audit_id = $1",
            audit_id,
            float(verify_after),
        )
        return
    await conn.execute(
        "UPDATE erasure_jobs SET state = $2, user_id = NULL, completed_at = now() WHERE audit_id = $1",
        audit_id,
        COMPLETED,
    )
    await conn.execute(
        """UPDATE privacy_audit SET deleted = coalesce(
               (SELECT jsonb_object_agg(step, removed) FROM erasure_job_steps WHERE audit_id = $1), '{}')
            WHERE id = $1""",
        audit_id,
    )


async def state_of(pool: asyncpg.Pool, audit_id: int) -> str | None:
    return await pool.fetchval("SELECT state FROM erasure_jobs WHERE audit_id = $1", audit_id)


async def status(pool: asyncpg.Pool, audit_id: int) -> JobStatus | None:
    job = await pool.fetchrow(
        "SELECT audit_id, user_hash, state, pass, requested_at, completed_at FROM erasure_jobs "
        "WHERE audit_id = $1",
        audit_id,
    )
    if job is None:
        return None
    steps = await pool.fetch(
        """SELECT s.step, s.service, coalesce(r.store, '') AS store, s.done_at IS NOT NULL AS done,
                  s.attempts, coalesce(s.last_error, '') AS last_error, s.removed, s.due_at
             FROM erasure_job_steps s LEFT JOIN erasure_steps r USING (step)
            WHERE s.audit_id = $1 ORDER BY s.service, s.step""",
        audit_id,
    )
    return JobStatus(
        job["audit_id"],
        job["user_hash"],
        job["state"],
        job["pass"],
        job["requested_at"],
        job["completed_at"],
        [
            StepStatus(
                s["step"],
                s["service"],
                s["store"],
                s["done"],
                s["attempts"],
                s["last_error"],
                s["removed"],
                None if s["done"] else s["due_at"],
            )
            for s in steps
        ],
    )
