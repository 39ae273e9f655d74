"""What model training must skip: users whose data was erased.

    sql = f"SELECT user_id, ... FROM events e WHERE {not_erased('e.user_id')}"

A trainer adds this condition to its query over events (or any table with user ids);
it holds even for events of an erased user that arrive later from an offline device.
"""

from __future__ import annotations


def not_erased(user_column: str) -> str:
    """A SQL condition true for rows whose user was not erased (same hash as erasure.user_hash)."""
    return (
        "NOT EXISTS (SELECT 1 FROM erased_users eu, privacy_salt ps WHERE eu.user_hash = "
        f"encode(sha256(convert_to(ps.salt || ':' || {user_column}, 'UTF8')), 'hex'))"
    )


async def not_erased_if_tracked(conn, user_column: str) -> str:
    """not_erased(user_column), or TRUE on a database where erasure was never set up
    (the common migrations did not run there: a bare test database, a new replica)."""
    tracked = await conn.fetchval("SELECT to_regclass('erased_users') IS NOT NULL")
    return not_erased(user_column) if tracked else "TRUE"
