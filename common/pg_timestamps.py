"""A cheaper timestamptz codec for connections that bulk-write rows (group commit, COPY).

asyncpg's own binary encoder costs about 1.8 µs per value on an aware datetime: it
compares the value with naive infinity sentinels (two utcoffset calls each), converts it
with astimezone and subtracts the epoch. This one subtracts the epoch once (same tzinfo
object: no offset calls) and encodes a value repeated in a row of the group (the arrival
time) once; 2 µs less per event row of two timestamps. Values read back are the same
datetimes asyncpg's decoder gives, infinity included (one difference: asyncpg writes an
aware 0001-01-01 00:00 UTC as -infinity, this codec as itself).

    await pg_timestamps.install(conn)    # on a connection the writer keeps
    ...
    await pg_timestamps.uninstall(conn)  # before giving it back to the pool
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # PostgreSQL's
_MICROSECOND = timedelta(microseconds=1)
# asyncpg's sentinels for 'infinity' and '-infinity' (naive), and PostgreSQL's integers for them.
_INFINITY, _NEGATIVE_INFINITY = datetime.max, datetime.min
_INFINITY_INT, _NEGATIVE_INFINITY_INT = 2**63 - 1, -(2**63)
_last: list = [None, None]  # the last value encoded and its encoding


def encode(value: datetime) -> tuple[int]:
    """(microseconds since 2000-01-01 UTC,): asyncpg's "tuple" format of timestamptz."""
    if value is _last[0]:
        return _last[1]
    try:
        encoded = ((value - _EPOCH) // _MICROSECOND,)
    except TypeError:  # naive: infinity, or local time as asyncpg reads it (a date too)
        if not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        if value == _INFINITY:
            encoded = (_INFINITY_INT,)
        elif value == _NEGATIVE_INFINITY:
            encoded = (_NEGATIVE_INFINITY_INT,)
        else:
            encoded = ((value.astimezone(UTC) - _EPOCH) // _MICROSECOND,)
    _last[0], _last[1] = value, encoded  # keeps a reference: the identity check stays sound
    return encoded


def decode(value: tuple[int]) -> datetime:
    microseconds = value[0]
    if microseconds == _INFINITY_INT:
        return _INFINITY
    if microseconds == _NEGATIVE_INFINITY_INT:
        return _NEGATIVE_INFINITY
    return _EPOCH + timedelta(microseconds=microseconds)


async def install(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "timestamptz", schema="pg_catalog", encoder=encode, decoder=decode, format="tuple"
    )


async def uninstall(conn: asyncpg.Connection) -> None:
    await conn.reset_type_codec("timestamptz", schema="pg_catalog")
