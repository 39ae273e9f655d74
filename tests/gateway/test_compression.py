"""Compressed bodies (gateway/compression.py): gzip and zstd requests with the size limit on the
decompressed bytes, decompression bombs refused without memory growth, replies compressed on request."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import signal
import socket
import struct
import sys
import uuid
import zlib
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
import zstandard
from gateway_helpers import start_gateway

from tests.events import event_dict

ROOT = Path(__file__).resolve().parents[2]
BATCH = "/api/analytics/events:batch"
GIB = 1 << 30


def batch_body(n: int = 3) -> tuple[bytes, list[str]]:
    ids = [f"evt-gz-{uuid.uuid4().hex[:12]}" for _ in range(n)]
    return json.dumps({"events": [event_dict(event_id=i) for i in ids]}).encode(), ids


def gzip_bomb(size: int = GIB) -> bytes:
    """A valid gzip stream of `size` zero bytes (~1 MB for 1 GiB), built from one repeated
    full-flush block instead of compressing a gigabyte."""
    mib = bytes(1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    first = c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size >> 20):
        crc = zlib.crc32(mib, crc)
    return first + block * ((size >> 20) - 1) + b"\x03\x00" + struct.pack("<II", crc, size & 0xFFFFFFFF)


def zstd_bomb(size: int = GIB) -> bytes:
    mib = bytes(1 << 20)
    c = zstandard.ZstdCompressor(level=3).compressobj()
    return b"".join(c.compress(mib) for _ in range(size >> 20)) + c.flush()


async def post(http, url: str, body: bytes, coding: str | None, **headers: str):
    headers = {"Content-Type": "application/json", **headers}
    if coding:
        headers["Content-Encoding"] = coding
    async with http.post(url, data=body, headers=headers) as resp:
        return resp.status, await resp.json(), resp.headers


@pytest.mark.parametrize("coding", ["gzip", "zstd"])
async def test_a_compressed_batch_is_accepted_and_counted_once(http, gateway_url, coding):
    body, ids = batch_body(5)
    data = gzip.compress(body) if coding == "gzip" else zstandard.ZstdCompressor().compress(body)
    status, reply, _ = await post(http, gateway_url + BATCH, data, coding)
    assert status == 200, reply
    assert reply["result"]["accepted"] == 5 and reply["result"]["duplicates"] == 0, reply
    status, reply, _ = await post(http, gateway_url + BATCH, data, coding)  # the same events again
    assert status == 200
    assert reply["result"]["accepted"] == 0 and reply["result"]["duplicates"] == 5, reply


async def test_several_gzip_members_are_one_body(http, gateway_url):
    body, _ = batch_body(2)
    half = len(body) // 2
    status, reply, _ = await post(
        http, gateway_url + BATCH, gzip.compress(body[:half]) + gzip.compress(body[half:]), "gzip"
    )
    assert status == 200 and reply["result"]["accepted"] == 2, reply


async def test_an_unknown_coding_is_415_naming_what_is_taken(http, gateway_url):
    body, _ = batch_body(1)
    status, reply, headers = await post(http, gateway_url + BATCH, body, "br")
    assert status == 415, reply
    assert reply["code"] == 415 and "'br'" in reply["message"] and "gzip" in reply["message"]
    assert "gzip" in headers["Accept-Encoding"]


@pytest.mark.parametrize(
    "data",
    [b"not gzip at all", gzip.compress(b'{"events": []}')[:-6], gzip.compress(b"{}") + b"garbage"],
    ids=["not-gzip", "truncated", "trailing-garbage"],
)
async def test_a_body_that_does_not_decode_is_400(http, gateway_url, data):
    status, reply, _ = await post(http, gateway_url + BATCH, data, "gzip")
    assert status == 400, reply
    assert reply["message"].startswith("malformed gzip body"), reply


async def test_the_limit_counts_decompressed_bytes(http, gateway_settings):
    server = await start_gateway(replace(gateway_settings, max_request_bytes=64 * 1024))
    try:
        event = event_dict(event_id=f"evt-{uuid.uuid4().hex[:12]}")
        event["properties"]["theme"] = "x" * (64 * 1024)  # compresses to a few hundred bytes
        data = gzip.compress(json.dumps(event).encode())
        assert len(data) < 4096
        status, reply, _ = await post(http, str(server.make_url("/api/analytics/events")), data, "gzip")
        assert status == 413, reply
        assert reply["message"] == "request body too large: over 65536 bytes once decompressed (gzip)"
    finally:
        await server.close()


async def test_replies_are_compressed_when_the_client_asks(gateway_url):
    async with aiohttp.ClientSession(auto_decompress=False) as raw:
        async with raw.get(f"{gateway_url}/api/openapi.json", headers={"Accept-Encoding": "gzip"}) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Encoding"] == "gzip"
            assert "Accept-Encoding" in resp.headers["Vary"]
            document = json.loads(gzip.decompress(await resp.read()))
        async with raw.get(f"{gateway_url}/api/openapi.json", headers={"Accept-Encoding": "zstd"}) as resp:
            assert resp.headers["Content-Encoding"] == "zstd"
            assert json.loads(zstandard.ZstdDecompressor().decompress(await resp.read())) == document
        for refused in ("identity", "gzip;q=0", "br"):
            async with raw.get(
                f"{gateway_url}/api/openapi.json", headers={"Accept-Encoding": refused}
            ) as resp:
                assert "Content-Encoding" not in resp.headers, refused
                assert json.loads(await resp.read()) == document
        # Small replies go as they are.
        async with raw.get(f"{gateway_url}/healthz", headers={"Accept-Encoding": "gzip"}) as resp:
            assert "Content-Encoding" not in resp.headers
            assert json.loads(await resp.read()) == {"status": "ok"}


# ---------------------------------------------------------------- decompression bombs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


async def test_a_1_gib_bomb_is_413_without_the_gateway_growing(gateway_settings):
    """`python -m gateway` (default limit, 4 MiB): gzip and zstd bodies of 1 GiB once decompressed
    are refused with 413, and the process's peak memory (VmHWM) grows by less than the limit
    and a read chunk, instead of by a gigabyte."""
    port = _free_port()
    env = os.environ | {
        "SV_GATEWAY_PORT": str(port),
        "SV_HOST": "127.0.0.1",
        "SV_GATEWAY_WORKERS": "1",
        "SV_ANALYTICS_TARGET": gateway_settings.analytics_target,
        "SV_RECO_TARGET": gateway_settings.reco_target,
        "SV_FEEDBACK_TARGET": gateway_settings.feedback_target,
        "SV_LOG_LEVEL": "WARNING",
        "PYTHONPATH": f"{ROOT}:{ROOT / 'gen'}",
    }
    env.pop("SV_MAX_REQUEST_BYTES", None)
    bombs = {"gzip": gzip_bomb(), "zstd": zstd_bomb()}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE
    )
    try:
        await asyncio.wait_for(process.stdout.readline(), timeout=20)
        url = f"http://127.0.0.1:{port}{BATCH}"
        async with aiohttp.ClientSession() as http:
            body, _ = batch_body(100)  # a normal request first: the baseline is a working gateway
            for _ in range(3):
                status, reply, _ = await post(http, url, gzip.compress(body), "gzip")
                assert status == 200, reply
                body, _ = batch_body(100)
            before = _memory_kib(process.pid, "VmHWM")
            for coding, bomb in bombs.items():
                status, reply, _ = await post(http, url, bomb, coding)
                assert status == 413, (coding, reply)
                assert "once decompressed" in reply["message"]
            after = _memory_kib(process.pid, "VmHWM")
            # Still serving.
            status, reply, _ = await post(http, url, gzip.compress(body), "gzip")
            assert status == 200, reply
        assert after - before < 24 * 1024, f"peak memory grew by {(after - before) / 1024:.1f} MiB"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=15)
        except TimeoutError:
            process.kill()
            await process.wait()
