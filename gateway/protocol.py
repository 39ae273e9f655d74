"""The HTTP connection: aiohttp's, with requests it cannot parse answered in our JSON error shape.

aiohttp refuses a request line or header over its limits (8,190 bytes), too many headers or a
malformed request before any middleware runs, and answers in plain text with the parser's own
words; it has no hook for that answer (aio-libs/aiohttp#3287). `GatewayRunner` serves the app
through a request handler whose `handle_error` answers those as JSON instead: 414 for a request
target over the limit, 431 for a header field over the limit or too many of them, 400 otherwise.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, HttpProcessingError, LineTooLong

from gateway.errors import GatewayError, error_response

# aiohttp's defaults, said here because the error messages quote them.
MAX_LINE_BYTES = 8190
MAX_FIELD_BYTES = 8190
MAX_HEADERS = 128


def parse_error(exc: HttpProcessingError) -> GatewayError:
    """What to tell the client about a request aiohttp's parser refused, in words for a person."""
    if isinstance(exc, LineTooLong):
        line = bytes(exc.args[0]) if exc.args and isinstance(exc.args[0], bytes | bytearray) else b""
        # The parser reports the captured bytes: the request target for the request line
        # ("/api/..." or an absolute URL, with the method in the pure-Python parser), else a
        # header's name or value.
        target = line.lstrip().split(b" ")[-1] if line[:1].isupper() else line
        if target.startswith(b"/") or b"://" in target[:12]:
            return GatewayError(414, f"the URL is too long: the request line is over {MAX_LINE_BYTES} bytes")
        return GatewayError(431, f"a request header is longer than {MAX_FIELD_BYTES} bytes")
    if isinstance(exc, BadHttpMessage) and "too many headers" in str(exc.message).lower():
        return GatewayError(431, f"more than {MAX_HEADERS} request headers")
    return GatewayError(400, "malformed HTTP request")


class JsonErrorRequestHandler(web.RequestHandler):
    def handle_error(self, request, status=500, exc=None, message=None):  # type: ignore[override]
        if not isinstance(exc, HttpProcessingError):
            return super().handle_error(request, status, exc, message)
        self.logger.info("refused a request aiohttp could not parse: %s", exc)
        response = error_response(parse_error(exc))
        response.force_close()  # the rest of the connection's bytes cannot be trusted
        return response


class _Server(web.Server):
    def __call__(self) -> web.RequestHandler:
        return JsonErrorRequestHandler(self, loop=self._loop, **self._kwargs)


class GatewayRunner(web.AppRunner):
    """web.AppRunner serving through JsonErrorRequestHandler, without aiohttp's own decompression
    of request bodies (gateway/compression.py decompresses them, capped at the size limit)."""

    def __init__(self, app: web.Application, **kwargs) -> None:
        super().__init__(app, **{**kwargs, "auto_decompress": False})

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return _Server(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=server._loop,
            **server._kwargs,
        )
