"""A CLIENT span per PostgreSQL command, as a thin asyncpg Connection subclass.

    pool = await asyncpg.create_pool(url, connection_class=TracedConnection)
    await pool.fetchval("SELECT 1")     # inside a traced request: a "SELECT" span under it

Only commands issued within a recorded span get one: the health probe's SELECT 1 every
two seconds and other background chatter would otherwise each start a trace of their own.
A subclass (not the asyncpg instrumentation package) also covers COPY, which our bulk
inserts use, and needs no global patching. A command that raises is reported to
`_command_failed` (database.py closes a connection whose command timed out).
"""

from __future__ import annotations

import asyncpg
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from common.telemetry import tracer

STATEMENT_CHARS = 1000


class TracedConnection(asyncpg.Connection):
    async def execute(self, query: str, *args, **kwargs):
        async with self._span(query):
            return await super().execute(query, *args, **kwargs)

    async def executemany(self, command: str, args, **kwargs):
        async with self._span(command, batch=len(args) if hasattr(args, "__len__") else None):
            return await super().executemany(command, args, **kwargs)

    async def fetch(self, query, *args, **kwargs):
        async with self._span(query):
            return await super().fetch(query, *args, **kwargs)

    async def fetchval(self, query, *args, **kwargs):
        async with self._span(query):
            return await super().fetchval(query, *args, **kwargs)

    async def fetchrow(self, query, *args, **kwargs):
        async with self._span(query):
            return await super().fetchrow(query, *args, **kwargs)

    async def fetchmany(self, query, args, **kwargs):
        async with self._span(query, batch=len(args) if hasattr(args, "__len__") else None):
            return await super().fetchmany(query, args, **kwargs)

    async def copy_records_to_table(self, table_name, **kwargs):
        records = kwargs.get("records")
        batch = len(records) if hasattr(records, "__len__") else None
        async with self._span(f"COPY {table_name}", batch=batch):
            return await super().copy_records_to_table(table_name, **kwargs)

    async def copy_to_table(self, table_name, **kwargs):
        async with self._span(f"COPY {table_name}"):
            return await super().copy_to_table(table_name, **kwargs)

    def _span(self, statement: str, batch: int | None = None):
        return _Span(self, statement, batch)

    def _command_failed(self, error: BaseException) -> None:
        """Called with the error of a command that raised; subclasses decide what it means."""


class _Span:
    """Async context manager: a span when the caller's span is recorded, nothing otherwise."""

    __slots__ = ("connection", "statement", "batch", "_cm")

    def __init__(self, connection: asyncpg.Connection, statement: str, batch: int | None) -> None:
        self.connection, self.statement, self.batch, self._cm = connection, statement, batch, None

    async def __aenter__(self) -> None:
        if not trace.get_current_span().is_recording():
            return
        operation = (self.statement.lstrip().split(None, 1) or ["SQL"])[0].upper()
        database = getattr(getattr(self.connection, "_params", None), "database", None) or ""
        attributes = {
            "db.system": "postgresql",
            "db.name": database,
            "db.operation": operation,
            "db.statement": self.statement[:STATEMENT_CHARS],
        }
        if self.batch is not None:
            attributes["db.operation.batch.size"] = self.batch
        self._cm = tracer.start_as_current_span(
            f"{operation} {database}".strip(), kind=SpanKind.CLIENT, attributes=attributes
        )
        self._cm.__enter__()

    async def __aexit__(self, *exc_info) -> None:
        if self._cm is not None:
            self._cm.__exit__(*exc_info)
        if exc_info[1] is not None:
            self.connection._command_failed(exc_info[1])
