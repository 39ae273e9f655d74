"""`python -m gateway` starts, prints its address, serves, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_python_m_gateway_serves_and_stops_on_sigterm():
    port = free_port()
    env = os.environ | {
        "SV_GATEWAY_PORT": str(port),
        "SV_HOST": "127.0.0.1",
        "PYTHONPATH": f"{ROOT / 'gen'}:{ROOT}",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE
    )
    try:
        line = await asyncio.wait_for(process.stdout.readline(), timeout=15)
        assert line.decode().strip() == f"gateway listening on http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200
            # Served through gateway/protocol.py: a URL over aiohttp's limit is a JSON error too.
            async with http.get(f"http://127.0.0.1:{port}/api/feedback/{'a' * 9000}") as resp:
                assert resp.status == 414
                assert (await resp.json())["code"] == 414
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
