"""Clients too slow to send their request lose the connection, so a few hundred sockets
trickling bytes cannot hold the gateway's connections (slowloris).

- Headers: from a request's first byte to the end of its headers at most
  SV_GATEWAY_HEADER_TIMEOUT_SECONDS, else the connection is closed. aiohttp bounds only
  idle keep-alive connections, so the listener uses HeaderDeadlineHandler (`listen`).
- Body: `read_body` reads it within SV_GATEWAY_BODY_TIMEOUT_SECONDS of the headers, else 408
  and the connection closes.
- A body declared larger than SV_MAX_REQUEST_BYTES (Content-Length) is refused with 413
  before a byte of it is read (`request_bounds`); aiohttp alone would read up to the limit.

    app = web.Application(middlewares=[request_bounds, ...])
    listener = await listen(runner, settings)   # instead of web.TCPSite
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from common.settings import Settings
from gateway.compression import IDENTITY, content_coding, read_compressed
from gateway.errors import GatewayError
from gateway.protocol import JsonErrorRequestHandler

log = logging.getLogger("gateway")
# Idle keep-alive connections stay longer than a load balancer's idle timeout (AWS ALB: 60 s),
# so the balancer, not the gateway, closes them (else it may reuse a closing one: 502s).
KEEPALIVE_SECONDS = 75.0
# After a response, the unread rest of a body is drained this long before closing.
LINGER_SECONDS = 2.0
# Answers after which the connection is closed: the client's bytes cannot be trusted to line up.
CLOSING_STATUSES = frozenset({408, 413})
MAX_BYTES = web.AppKey("max_request_bytes", int)


class HeaderDeadlineHandler(JsonErrorRequestHandler):
    """aiohttp's connection handler with a deadline on each request's headers (and, from
    JsonErrorRequestHandler, JSON answers to requests the parser refuses)."""

    def __init__(self, manager: web.Server, *, header_seconds: float, **kwargs) -> None:
        super().__init__(manager, **kwargs)
        self.header_seconds = header_seconds
        self.handling = False
        self._deadline: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        # Bytes outside a request being handled are (the start of) the next request's headers.
        if data and not self.handling and self._deadline is None:
            self._deadline = asyncio.get_running_loop().call_later(self.header_seconds, self._too_slow)
        super().data_received(data)

    def request_started(self) -> None:
        self.handling = True
        self._cancel_deadline()

    def request_finished(self) -> None:
        self.handling = False

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.handling:
            log.info("closing a connection whose request headers took over %.0f s", self.header_seconds)
            self.force_close()


@web.middleware
async def request_bounds(request: web.Request, handler) -> web.StreamResponse:
    protocol = request.protocol
    tracked = isinstance(protocol, HeaderDeadlineHandler)
    if tracked:
        protocol.request_started()
    try:
        limit = request.app[MAX_BYTES]
        if request.content_length is not None and request.content_length > limit:
            raise GatewayError(
                413, f"request body too large: Content-Length {request.content_length} is over {limit} bytes"
            )
        return await handler(request)
    finally:
        if tracked:
            protocol.request_finished()


async def read_body(request: web.Request, seconds: float) -> bytes:
    """The body (decompressed when sent with a Content-Encoding: compression.py), within `seconds`."""
    coding = content_coding(request)
    try:
        async with asyncio.timeout(seconds):
            if coding in IDENTITY:
                return await request.read()
            return await read_compressed(request, coding, request.app[MAX_BYTES])
    except TimeoutError:
        raise GatewayError(408, f"request body not received within {seconds:g} s") from None


def closes_connection(response: web.StreamResponse) -> None:
    if response.status in CLOSING_STATUSES:
        response.force_close()


async def listen(runner: web.AppRunner, settings: Settings, reuse_port: bool = False) -> asyncio.Server:
    """Serve runner's app on settings.host:gateway_port with the header deadline. Close the
    returned server before runner.cleanup() (which then drains the open connections).
    reuse_port: several worker processes listen on the port (SO_REUSEPORT)."""
    loop = asyncio.get_running_loop()
    server = runner.server
    assert server is not None, "runner.setup() first"

    def connection() -> HeaderDeadlineHandler:
        return HeaderDeadlineHandler(
            server,
            loop=loop,
            header_seconds=settings.gateway_header_timeout_seconds,
            keepalive_timeout=KEEPALIVE_SECONDS,
            lingering_time=LINGER_SECONDS,
            access_log=None,
            auto_decompress=False,  # compression.py decompresses, with the size limit on its output
        )

    return await loop.create_server(
        connection, settings.host, settings.gateway_port, reuse_address=True, reuse_port=reuse_port or None
    )
