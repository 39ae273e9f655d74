"""Experiments and persisted assignments in PostgreSQL (parameterized SQL only)."""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from analytics_svc.experiments.model import Experiment, definition_json, from_json

_COLUMNS = "key, salt, status, definition, created_at, started_at, stopped_at, weights_changed_at"


def _text(ts: datetime | None) -> str:
    return ts.isoformat().replace("+00:00", "Z") if ts else ""


def _experiment(row: asyncpg.Record) -> Experiment:
    times = {
        name: _text(row[name]) for name in ("created_at", "started_at", "stopped_at", "weights_changed_at")
    }
    return from_json(row["key"], row["salt"], row["status"], json.loads(row["definition"]), times)


async def insert(pool: asyncpg.Pool, exp: Experiment) -> Experiment | None:
    """None when the key exists already."""
    row = await pool.fetchrow(
        f"INSERT INTO experiments (key, salt, definition) VALUES ($1, $2, $3::jsonb)"
        f" ON CONFLICT (key) DO NOTHING RETURNING {_COLUMNS}",
        exp.key,
        exp.salt or exp.key,
        json.dumps(definition_json(exp)),
    )
    return _experiment(row) if row else None


async def get(pool: asyncpg.Pool | asyncpg.Connection, key: str, lock: bool = False) -> Experiment | None:
    row = await pool.fetchrow(
        f"SELECT {_COLUMNS} FROM experiments WHERE key = $1{' FOR UPDATE' if lock else ''}", key
    )
    return _experiment(row) if row else None


async def save_definition(conn: asyncpg.Connection, exp: Experiment, weights_changed: bool) -> Experiment:
    row = await conn.fetchrow(
        f"UPDATE experiments SET definition = $2::jsonb, updated_at = now(),"
        f" weights_changed_at = CASE WHEN $3 THEN now() ELSE weights_changed_at END"
        f" WHERE key = $1 RETURNING {_COLUMNS}",
        exp.key,
        json.dumps(definition_json(exp)),
        weights_changed,
    )
    return _experiment(row)


async def set_status(pool: asyncpg.Pool, key: str, old: str, new: str) -> Experiment | None:
    """Move key from status old to new (stamping the time); None when it was not in `old`."""
    stamp = {"running": "started_at", "stopped": "stopped_at"}[new]
    row = await pool.fetchrow(
        f"UPDATE experiments SET status = $3, {stamp} = now(), updated_at = now()"
        f" WHERE key = $1 AND status = $2 RETURNING {_COLUMNS}",
        key,
        old,
        new,
    )
    return _experiment(row) if row else None


async def list_all(pool: asyncpg.Pool, status: str = "") -> list[Experiment]:
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM experiments WHERE $1 = '' OR status = $1 ORDER BY created_at, key", status
    )
    return [_experiment(r) for r in rows]


async def assignments_of(pool: asyncpg.Pool, user_id: str, keys: list[str]) -> dict[str, str]:
    rows = await pool.fetch(
        "SELECT experiment_key, variant FROM experiment_assignments"
        " WHERE user_id = $1 AND experiment_key = ANY($2::text[])",
        user_id,
        keys,
    )
    return {r["experiment_key"]: r["variant"] for r in rows}


async def insert_assignments(pool: asyncpg.Pool, user_id: str, variants: dict[str, str]) -> set[str]:
    """Persist first assignments; return the experiment keys this call inserted (a
    concurrent call for the same user may have won the race for the others)."""
    if not variants:
        return set()
    rows = await pool.fetch(
        "INSERT INTO experiment_assignments (experiment_key, user_id, variant)"
        " SELECT k, $1, v FROM unnest($2::text[], $3::text[]) AS x(k, v)"
        " ON CONFLICT DO NOTHING RETURNING experiment_key",
        user_id,
        list(variants),
        list(variants.values()),
    )
    return {r[0] for r in rows}


async def exposed_users(pool: asyncpg.Pool, keys: list[str], since: list[datetime]) -> dict[str, int]:
    """Distinct users with an exposure event per experiment, since each one's start."""
    rows = await pool.fetch(
        "SELECT k, (SELECT count(DISTINCT user_id) FROM events"
        "           WHERE event_type = 'experiment_exposure' AND ts >= s AND props->>'experiment_key' = k)"
        " FROM unnest($1::text[], $2::timestamptz[]) AS x(k, s)",
        keys,
        since,
    )
    return {r[0]: r[1] for r in rows}
