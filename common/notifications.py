"""PostgreSQL LISTEN for a whole process: one connection for every channel, kept up.

    notifications = Notifications(pool)
    notifications.subscribe("reco_models", lambda payload: holder.wake(), on_gap=holder.wake)
    await notifications.start()
    ...
    await notifications.aclose()

A callback gets the payload of each NOTIFY on its channel, on the event loop; it must not
block. When the connection is lost (PostgreSQL restarted, the backend terminated) it is
opened again with backoff, and every `on_gap` is called once listening again: what was
notified meanwhile is gone, so a subscriber that caches must treat everything as changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

log = logging.getLogger(__name__)
RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 30.0


class Notifications:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._callbacks: dict[str, list[Callable[[str], None]]] = {}
        self._gaps: list[Callable[[], None]] = []
        self._conn: asyncpg.Connection | None = None
        self._reconnecting: asyncio.Task | None = None
        self._closed = False

    def subscribe(
        self, channel: str, callback: Callable[[str], None], on_gap: Callable[[], None] | None = None
    ) -> None:
        """Before start(): every subscription is listened to from the first connection."""
        self._callbacks.setdefault(channel, []).append(callback)
        if on_gap is not None:
            self._gaps.append(on_gap)

    async def start(self) -> None:
        """Listening when it returns (a failure to connect is raised, as the pool's would be)."""
        await self._connect()

    async def _connect(self) -> None:
        conn = await self.pool.acquire()
        try:
            for channel in self._callbacks:
                await conn.add_listener(channel, self._deliver)
            conn.add_termination_listener(self._lost)
        except BaseException:
            await self.pool.release(conn)
            raise
        self._conn = conn

    def _deliver(self, _conn: object, _pid: int, channel: str, payload: str) -> None:
        for callback in self._callbacks.get(channel, ()):
            try:
                callback(payload)
            except Exception:  # noqa: BLE001 - one subscriber's fault must not silence the others
                log.exception("notification callback failed", extra={"fields": {"channel": channel}})

    def _lost(self, conn: object) -> None:
        if self._closed or conn is not self._conn:
            return
        self._conn = None
        log.warning("notification connection lost; listening again")
        # (asyncpg gives a pool's closed connection back to the pool by itself.)
        self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        pause = RETRY_FIRST_SECONDS
        while not self._closed:
            try:
                await self._connect()
            except Exception as exc:  # noqa: BLE001 - PostgreSQL away: try again later
                log.warning(
                    "notifications not listening yet: %r", exc, extra={"fields": {"retry_in_s": pause}}
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, RETRY_MAX_SECONDS)
                continue
            for gap in self._gaps:
                gap()
            return

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def aclose(self) -> None:
        self._closed = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
            with contextlib.suppress(BaseException):
                await self._reconnecting
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.remove_termination_listener(self._lost)
            with contextlib.suppress(Exception):
                for channel in self._callbacks:
                    await conn.remove_listener(channel, self._deliver)
            await self.pool.release(conn)
