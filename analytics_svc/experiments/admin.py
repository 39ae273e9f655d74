"""Experiment operations: create, update, start, stop, get, list, and client assignments."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from storyverse.analytics.v1 import events_pb2

from analytics_svc.experiments import store
from analytics_svc.experiments.assignment import Context, assign, exposure_event_id
from analytics_svc.experiments.model import Experiment, check, updated
from analytics_svc.ingestion.recorder import EventRecorder
from common.errors import AlreadyExists, FailedPrecondition, FieldViolation, NotFound

TRANSITIONS = {"running": "draft", "stopped": "running"}  # new status: the status it must come from


def _missing(key: str) -> NotFound:
    return NotFound(f"no such experiment: {key!r}", [FieldViolation("key", "no such experiment")])


async def create(pool: asyncpg.Pool, exp: Experiment) -> Experiment:
    check(exp)
    created = await store.insert(pool, exp)
    if created is None:
        raise AlreadyExists(f"experiment {exp.key!r} exists", [FieldViolation("experiment.key", "exists")])
    return created


async def update(pool: asyncpg.Pool, key: str, new: Experiment) -> Experiment:
    if new.key and new.key != key:
        raise FailedPrecondition(
            "the key cannot change", [FieldViolation("experiment.key", "must equal key")]
        )
    check(new, new=False)
    async with pool.acquire() as conn, conn.transaction():
        old = await store.get(conn, key, lock=True)
        if old is None:
            raise _missing(key)
        merged = updated(old, new)
        weights_changed = old.status == "running" and old.weights != merged.weights
        return await store.save_definition(conn, merged, weights_changed)


async def transition(pool: asyncpg.Pool, key: str, status: str) -> Experiment:
    moved = await store.set_status(pool, key, TRANSITIONS[status], status)
    if moved is not None:
        return moved
    current = await store.get(pool, key)
    if current is None:
        raise _missing(key)
    raise FailedPrecondition(
        f"experiment {key!r} is {current.status}; only a {TRANSITIONS[status]} one can become {status}",
        [FieldViolation("key", f"is {current.status}")],
    )


async def get(pool: asyncpg.Pool, key: str) -> Experiment:
    exp = await store.get(pool, key)
    if exp is None:
        raise _missing(key)
    return exp


async def assignments(
    pool: asyncpg.Pool, recorder: EventRecorder, user_id: str, context: Context
) -> list[tuple[str, str, bool]]:
    """(experiment key, variant, first time) for the running experiments the user is in.
    A persisted assignment wins over the hash (weights may have changed since); a first
    assignment is persisted and logged as one exposure event with an idempotent id."""
    running = await store.list_all(pool, "running")
    known = await store.assignments_of(pool, user_id, [e.key for e in running])
    fresh: dict[str, str] = {}
    for exp in running:
        if exp.key not in known:
            variant = assign(exp.rules, user_id, context)
            if variant is not None:
                fresh[exp.key] = variant
    inserted = await store.insert_assignments(pool, user_id, fresh)
    if set(fresh) - inserted:  # a concurrent call assigned first: its variant stands
        known.update(await store.assignments_of(pool, user_id, sorted(set(fresh) - inserted)))
    if inserted:
        await recorder.record(
            [_exposure(k, user_id, fresh[k], context) for k in sorted(inserted)], "assignment"
        )
    out = [(k, v, False) for k, v in known.items()]
    out += [(k, fresh[k], True) for k in inserted]
    return sorted(out)


def _exposure(key: str, user_id: str, variant: str, context: Context) -> events_pb2.Event:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    props = events_pb2.EventProperties(experiment_key=key, variant=variant)
    for name in ("age_group", "platform", "device_type"):
        if getattr(context, name):
            setattr(props, name, getattr(context, name))
    return events_pb2.Event(
        event_id=exposure_event_id(key, user_id),
        user_id=user_id,
        timestamp=now,
        event_type="experiment_exposure",
        properties=props,
    )
