"""Redis for tests: the local server when it answers, and a proxy in front of it that can freeze.

    url = local_redis_url()            # None when nothing answers on 127.0.0.1:6379
    async with FreezableProxy(url) as proxy:
        proxy.url                      # point a client here
        proxy.freeze()                 # connections stay open, nothing gets through: timeouts
        proxy.thaw()

Tests use a fresh key prefix each and delete their keys after: the server may be shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from urllib.parse import urlsplit

REDIS_URL = os.environ.get("SV_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
NO_REDIS = f"no Redis answers at {REDIS_URL} (SV_TEST_REDIS_URL): the Redis backend is not tested"


def local_redis_url() -> str | None:
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            sock.settimeout(0.5)
            if sock.recv(16).startswith(b"+PONG"):
                return REDIS_URL
    except OSError:
        return None
    return None


async def delete_prefix(url: str, prefix: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


class FreezableProxy:
    """A TCP relay to Redis; frozen, it holds every byte, as a hung server or network would."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.target = (parts.hostname, parts.port or 6379)
        self.path = parts.path
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.server: asyncio.Server | None = None
        self.url = ""

    def freeze(self) -> None:
        self.flowing.clear()

    def thaw(self) -> None:
        self.flowing.set()

    async def __aenter__(self) -> FreezableProxy:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"redis://127.0.0.1:{port}{self.path}"
        return self

    async def __aexit__(self, *exc_info) -> None:
        self.thaw()
        self.server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.server.wait_closed(), 1)

    async def _relay(self, client_reader, client_writer) -> None:
        reader, writer = await asyncio.open_connection(*self.target)
        await asyncio.gather(
            self._pipe(client_reader, writer), self._pipe(reader, client_writer), return_exceptions=True
        )
        for w in (writer, client_writer):
            w.close()

    async def _pipe(self, reader, writer) -> None:
        while data := await reader.read(65536):
            await self.flowing.wait()
            writer.write(data)
            await writer.drain()
        writer.close()
