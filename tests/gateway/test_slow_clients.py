"""Slow clients lose their connection instead of holding it (gateway/slow_clients.py).

The gateway runs as `python -m gateway` with short deadlines; raw sockets trickle bytes at
1 byte/s.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time

import pytest

from tests.conftest import free_port, spawn
from tests.events import event_dict

HEADER_SECONDS = 1.0
BODY_SECONDS = 1.5
SLACK = 1.5
# How long the gateway drains the unread rest of a refused body before closing (LINGER_SECONDS).
LINGER_SECONDS = 2.0


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    """`python -m gateway` as deployed, with short deadlines (no backend is needed: every
    answer here comes from the gateway itself)."""
    port = free_port()
    env = {
        **os.environ,
        "SV_HOST": "127.0.0.1",
        "SV_GATEWAY_PORT": str(port),
        "SV_GATEWAY_HEADER_TIMEOUT_SECONDS": str(HEADER_SECONDS),
        "SV_GATEWAY_BODY_TIMEOUT_SECONDS": str(BODY_SECONDS),
        "SV_MAX_REQUEST_BYTES": str(64 * 1024),
        "SV_LOG_LEVEL": "WARNING",
    }
    process = spawn("gateway", env, tmp_path_factory.mktemp("gateway") / "gateway.log")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, "the gateway did not start"
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=15)


async def trickle(reader, writer, data: bytes, give_up: float) -> tuple[float, float, bytes, int]:
    """Send data at 1 byte/s until the server answers or closes, or `give_up` seconds pass:
    (seconds to the first byte back, seconds to the close, what came back, bytes sent);
    inf when it did not happen."""
    began, sent, reply, answered, closed = time.monotonic(), 0, b"", float("inf"), float("inf")
    try:
        for byte in data:
            if time.monotonic() - began > give_up:
                break
            writer.write(bytes([byte]))
            await writer.drain()
            sent += 1
            try:
                chunk = await asyncio.wait_for(reader.read(65536), 1.0)
            except TimeoutError:
                continue
            answered = time.monotonic() - began
            reply = chunk + (await asyncio.wait_for(reader.read(), 10) if chunk else b"")
            closed = time.monotonic() - began
            break
    except (ConnectionResetError, BrokenPipeError):
        closed = time.monotonic() - began
    finally:
        writer.close()
    return answered, closed, reply, sent


def headers(content_length: int) -> bytes:
    return (
        "POST /api/analytics/events HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        f"Content-Length: {content_length}\r\n\r\n"
    ).encode()


async def test_headers_trickled_at_one_byte_a_second_are_cut_off(gateway):
    async def one():
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway)
        return await trickle(reader, writer, headers(100), give_up=HEADER_SECONDS + SLACK + 1)

    # Many at once: they held every connection before (the probe kept 300 open).
    for _, closed, reply, sent in await asyncio.gather(*(one() for _ in range(50))):
        assert reply == b"", "no answer: the connection is just closed"
        assert closed < HEADER_SECONDS + SLACK and sent < len(headers(100)), (closed, sent)


async def test_a_body_trickled_at_one_byte_a_second_gets_408_and_the_connection_closes(gateway):
    body = json.dumps(event_dict()).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway)
    writer.write(headers(len(body)))  # the headers in one go, then the body byte by byte
    await writer.drain()
    answered, closed, reply, sent = await trickle(reader, writer, body, give_up=BODY_SECONDS + SLACK + 1)
    assert answered < BODY_SECONDS + SLACK and sent < len(body), (answered, sent)
    status_line, _, rest = reply.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 408 Request Timeout", reply
    assert json.loads(rest.split(b"\r\n\r\n", 1)[1])["code"] == 408
    # Closed once what was already sent is drained (LINGER_SECONDS), not when the body would end.
    assert closed < BODY_SECONDS + LINGER_SECONDS + SLACK, closed


async def test_a_declared_oversize_body_is_refused_before_it_is_sent(gateway):
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway)
    began = time.monotonic()
    writer.write(headers(64 * 2**20))  # 64 MiB declared, not a byte of it sent
    await writer.drain()
    status_line = (await asyncio.wait_for(reader.readuntil(b"\r\n"), 5)).rstrip()
    assert time.monotonic() - began < 1.0, "answered at once"
    rest = await asyncio.wait_for(reader.read(), 5)  # then closed (after LINGER_SECONDS at most)
    writer.close()
    assert time.monotonic() - began < LINGER_SECONDS + SLACK
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large", rest
    assert "Content-Length" in json.loads(rest.split(b"\r\n\r\n", 1)[1])["message"]


async def test_an_idle_keep_alive_connection_outlives_the_header_deadline(gateway):
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway)
    request = b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"
    for _ in range(2):
        writer.write(request)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 200"), head
        length = int(
            next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1]
        )
        await reader.readexactly(length)
        await asyncio.sleep(HEADER_SECONDS + 0.5)  # idle between requests is not slow headers
    writer.close()
