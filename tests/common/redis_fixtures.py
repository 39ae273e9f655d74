"""Redis for tests: the local server when it answers, and a proxy in front of it that can freeze.

    url = local_redis_url()            # None when nothing answers on 127.0.0.1:6379
    async with FreezableProxy(url) as proxy:
        proxy.url                      # point a client here
        proxy.freeze()                 # connections stay open, nothing gets through: timeouts
        proxy.thaw()
    with RedisServer() as redis:       # a redis-server of the test's own, on a free port
        redis.url; redis.freeze(); redis.thaw()    # SIGSTOP / SIGCONT of that process only

Tests use a fresh key prefix each and delete their keys after: the server may be shared.
A test that must see every key, or pause Redis, starts its own server instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

REDIS_URL = os.environ.get("SV_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
NO_REDIS = f"no Redis answers at {REDIS_URL} (SV_TEST_REDIS_URL): the Redis backend is not tested"
NO_REDIS_SERVER = (
    "no redis-server on PATH (Debian: redis-server): tests that pause their own Redis cannot run"
)


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


class RedisServer:
    """A redis-server process of the test's own (no persistence), which it may pause.

    The shared 127.0.0.1:6379 is never paused: other work on the machine uses it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.process: subprocess.Popen | None = None
        self.url = ""

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def __enter__(self) -> RedisServer:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 10
        while local_redis_at(port) is False:
            assert self.process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        return self

    def freeze(self) -> None:
        """SIGSTOP: connections stay open and nothing answers, as a hung server would."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def __exit__(self, *exc_info) -> None:
        self.thaw()
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def local_redis_at(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            sock.settimeout(0.5)
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


async def keys_naming(url: str, text: str) -> dict[str, str]:
    """Every key of the server whose name or value holds `text`, with what held it."""
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    found = {}
    try:
        async for raw in client.scan_iter(count=500):
            key = raw.decode(errors="replace")
            kind = (await client.type(raw)).decode()
            if kind == "string":
                values = [await client.get(raw)]
            elif kind == "list":
                values = await client.lrange(raw, 0, -1)
            elif kind == "set":
                values = list(await client.smembers(raw))
            elif kind == "zset":
                values = await client.zrange(raw, 0, -1)
            elif kind == "hash":
                values = [v for pair in (await client.hgetall(raw)).items() for v in pair]
            else:
                values = []
            if text in key:
                found[key] = "name"
            elif any(text.encode() in (v or b"") for v in values):
                found[key] = f"{kind} value"
    finally:
        await client.aclose()
    return found
