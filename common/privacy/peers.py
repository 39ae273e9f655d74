"""Erasure progress across databases: what `GetErasureStatus` knows of the other services.

Services on databases of their own run their copy of an erasure job there (erasure.py
`adopt`). Each reports on the bus topic `privacy.erasure.progress`: its steps when it starts,
and its job's status whenever it changes. Every service keeps the others' reports in its own
database (`erasure_peer_steps`, `erasure_peer_jobs`), so that the job's status in any database
covers every service: a service that registered steps but has not reported on the job yet
shows them pending, and the job is only as far as its least advanced service.

    await publish_steps(bus, "reco", [("reco_interactions", "PostgreSQL reco_interactions")])
    await publish_changes(pool, bus, "reco", reported)         # after each poll of the steps
    await record(pool, messages, "analytics")                  # what the others reported
    merged = await with_peers(pool, await jobs.status(pool, audit_id))

Reports hold no user id or hash: the requester's audit id, step names, counts and errors.
With one shared database every service's steps are local already and the reports are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

import asyncpg

from common.bus.base import BusMessage, EventBus
from common.privacy import jobs

PROGRESS_TOPIC = "privacy.erasure.progress"
ORDER = {jobs.ERASING: 0, jobs.VERIFYING: 1, jobs.COMPLETED: 2}
# Jobs completed this recently are reported again if they changed (their last pass's end).
RECENT_SECONDS = 600
Signature = tuple


async def publish_steps(bus: EventBus, service: str, steps: Sequence[tuple[str, str]]) -> None:
    body = {"kind": "steps", "service": service, "steps": [list(s) for s in steps]}
    await bus.publish(PROGRESS_TOPIC, [BusMessage(service.encode(), json.dumps(body).encode())])


async def publish_changes(
    pool: asyncpg.Pool, bus: EventBus, service: str, reported: dict[int, Signature]
) -> None:
    """The status of this service's part of each open (or just completed) job whose status
    changed since it was last reported from this process; `reported` remembers."""
    ids = await pool.fetch(
        "SELECT audit_id FROM erasure_jobs"
        " WHERE state <> 'completed' OR completed_at > now() - make_interval(secs => $1)",
        RECENT_SECONDS,
    )
    messages, changed = [], {}
    for row in ids:
        status = await jobs.status(pool, row["audit_id"])
        if status is None:
            continue
        steps = [s for s in status.steps if s.service == service]
        signature = (
            status.state,
            status.pass_,
            tuple((s.step, s.done, s.attempts, s.removed) for s in steps),
        )
        if reported.get(status.audit_id) == signature:
            continue
        changed[status.audit_id] = signature
        body = {
            "kind": "job",
            "service": service,
            "audit_id": status.audit_id,
            "state": status.state,
            "pass": status.pass_,
            "completed_at": status.completed_at.isoformat() if status.completed_at else None,
            "reported_at": datetime.now().astimezone().isoformat(),
            "steps": [
                {
                    "step": s.step,
                    "store": s.store,
                    "done": s.done,
                    "attempts": s.attempts,
                    "last_error": s.last_error,
                    "removed": s.removed,
                    "due_at": s.due_at.isoformat() if s.due_at else None,
                }
                for s in steps
            ],
        }
        messages.append(BusMessage(str(status.audit_id).encode(), json.dumps(body).encode()))
    if messages:
        await bus.publish(PROGRESS_TOPIC, messages)
        reported.update(changed)  # only once sent: a failed publish is retried next time


async def record(pool: asyncpg.Pool, messages: Iterable[BusMessage], own_service: str) -> None:
    """Keep the other services' reports (the newest per job and service)."""
    for message in messages:
        body = json.loads(message.value)
        if body.get("service") == own_service:
            continue
        if body.get("kind") == "steps":
            await pool.execute(
                "INSERT INTO erasure_peer_steps (service, steps) VALUES ($1, $2::jsonb) ON CONFLICT (service)"
                " DO UPDATE SET steps = EXCLUDED.steps, registered_at = now()",
                body["service"],
                json.dumps(body["steps"]),
            )
        elif body.get("kind") == "job":
            await pool.execute(
                """INSERT INTO erasure_peer_jobs
                          (audit_id, service, state, pass, completed_at, steps, reported_at)
                   VALUES ($1, $2, $3, $4, $5::timestamptz, $6::jsonb, $7::timestamptz)
                   ON CONFLICT (audit_id, service) DO UPDATE SET state = EXCLUDED.state, pass = EXCLUDED.pass,
                       completed_at = EXCLUDED.completed_at, steps = EXCLUDED.steps,
                       reported_at = EXCLUDED.reported_at
                   WHERE erasure_peer_jobs.reported_at <= EXCLUDED.reported_at""",
                body["audit_id"],
                body["service"],
                body["state"],
                body["pass"],
                _time(body["completed_at"]),
                json.dumps(body["steps"]),
                _time(body["reported_at"]),
            )


async def with_peers(pool: asyncpg.Pool, local: jobs.JobStatus | None) -> jobs.JobStatus | None:
    """The local job's status with the steps of the services whose steps are not in this
    database; state and completion those of the least advanced service."""
    if local is None:
        return None
    local_services = set(
        await pool.fetchval("SELECT coalesce(array_agg(DISTINCT service), '{}') FROM erasure_steps")
    ) | {s.service for s in local.steps}
    registered = await pool.fetch("SELECT service, steps FROM erasure_peer_steps")
    reports = {
        r["service"]: r
        for r in await pool.fetch("SELECT * FROM erasure_peer_jobs WHERE audit_id = $1", local.audit_id)
    }
    return merge(local, local_services, {r["service"]: json.loads(r["steps"]) for r in registered}, reports)


def merge(
    local: jobs.JobStatus, local_services: set[str], registered: dict[str, list], reports: dict[str, dict]
) -> jobs.JobStatus:
    steps, states, completed = list(local.steps), [local.state], [local.completed_at]
    for service in sorted((set(registered) | set(reports)) - local_services):
        report = reports.get(service)
        if report is None:  # registered, not heard of this job yet: its steps are pending
            steps += [
                jobs.StepStatus(step, service, store, False, 0, "", 0, None)
                for step, store in registered[service]
            ]
            states.append(jobs.ERASING)
            completed.append(None)
            continue
        steps += [
            jobs.StepStatus(
                s["step"], service, s["store"], s["done"], s["attempts"], s["last_error"], s["removed"],
                _time(s["due_at"]),
            )
            for s in json.loads(report["steps"])
        ]  # fmt: skip
        states.append(report["state"])
        completed.append(report["completed_at"])
    state = min(states, key=ORDER.__getitem__)
    done_at = max(completed) if state == jobs.COMPLETED and all(completed) else None
    return replace(local, state=state, completed_at=done_at, steps=steps)


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
