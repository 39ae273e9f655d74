"""Compressed bodies: requests sent with `Content-Encoding`, replies compressed per `Accept-Encoding`.

Requests: gzip and zstd (zstd when the `zstandard` package is installed), decompressed as they
stream in with a cap on the output, so the size limit (SV_MAX_REQUEST_BYTES) counts the
*decompressed* bytes and a decompression bomb costs at most the limit plus one read chunk of
memory before its 413. Another coding is 415 (with `Accept-Encoding` naming what is taken); a
body that does not decode is 400. Uncompressed bodies are read as before (aiohttp's
`request.read()`, its own limit and message).

Replies: a body of at least MIN_COMPRESS_BYTES (4 KiB) is compressed with the best coding the client
accepts (zstd, then gzip; q-values honoured, q=0 refuses), `Vary: Accept-Encoding` always.
"""

from __future__ import annotations

import asyncio
import zlib

from aiohttp import web

from gateway.errors import GatewayError

try:  # optional: zstd is taken when the package is there
    import zstandard
except ImportError:  # pragma: no cover - depends on the environment
    zstandard = None

READ_CHUNK = 64 * 1024
# Smaller replies go as they are: a few hundred bytes saved would not pay for the CPU on both
# sides (an ingestion acknowledgement, a recommendation list).
MIN_COMPRESS_BYTES = 4096
# Larger replies (CSV exports) are compressed in a thread, off the event loop.
THREAD_COMPRESS_BYTES = 256 * 1024
GZIP_LEVEL = 5
ZSTD_SLICE = 128
ZSTD_LEVEL = 3

IDENTITY = ("", "identity")


def request_codings() -> tuple[str, ...]:
    return ("gzip", "zstd") if zstandard is not None else ("gzip",)


class _Gzip:
    """gzip members (several in a row are one body, as RFC 1952 allows), output capped per call."""

    def __init__(self) -> None:
        self._d = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)

    def feed(self, data: bytes, max_length: int) -> bytes:
        out = self._d.decompress(data, max_length)
        if self._d.eof and self._d.unused_data and len(out) < max_length:
            rest = self._d.unused_data
            self._d = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
            out += self.feed(rest, max_length - len(out))
        return out

    def more(self, max_length: int) -> bytes:
        """Output still held back by the cap of the previous call."""
        tail = self._d.unconsumed_tail
        return self.feed(tail, max_length) if tail else b""

    def finished(self) -> bool:
        return self._d.eof and not self._d.unconsumed_tail


class _Zstd:
    def __init__(self) -> None:
        self._d = zstandard.ZstdDecompressor().decompressobj()  # type: ignore[union-attr]
        self._pending = b""  # input not yet decoded because the cap was reached
        self._out = b""

    def feed(self, data: bytes, max_length: int) -> bytes:
        # zstandard's decompressobj has no output cap: feed it small slices, so one call yields
        # at most a few MiB (a 128-byte slice holds at most ~32 RLE blocks of 128 KiB).
        self._pending += data
        return self.more(max_length)

    def more(self, max_length: int) -> bytes:
        out = self._out
        while len(out) <= max_length and self._pending:
            piece, self._pending = self._pending[:ZSTD_SLICE], self._pending[ZSTD_SLICE:]
            out += self._decompress(piece)
        self._out = out[max_length:] if len(out) > max_length else b""
        return out[:max_length] if len(out) > max_length else out

    def _decompress(self, piece: bytes) -> bytes:
        out = self._d.decompress(piece)
        if self._d.eof and self._d.unused_data:  # the next frame of a multi-frame body
            rest = self._d.unused_data
            self._d = zstandard.ZstdDecompressor().decompressobj()  # type: ignore[union-attr]
            out += self._decompress(rest)
        return out

    def finished(self) -> bool:
        return self._d.eof and not self._pending and not self._out


def _decoder(coding: str):
    if coding in ("gzip", "x-gzip"):
        return _Gzip()
    if coding == "zstd" and zstandard is not None:
        return _Zstd()
    accepted = ", ".join((*request_codings(), "identity"))
    raise GatewayError(
        415,
        f"Content-Encoding {coding!r} is not supported; send one of: {accepted}",
        headers={"Accept-Encoding": ", ".join(request_codings())},
    )


def content_coding(request: web.Request) -> str:
    return request.headers.get("Content-Encoding", "").strip().lower()


async def read_compressed(request: web.Request, coding: str, limit: int) -> bytes:
    """The decompressed body; 413 as soon as it would pass `limit` bytes (nothing more is read)."""
    decoder = _decoder(coding)
    out = bytearray()
    read = 0
    try:
        async for chunk in request.content.iter_chunked(READ_CHUNK):
            read += len(chunk)
            if read > limit:  # incompressible data larger than the limit: no need to decode it
                raise _too_large(coding, limit)
            piece = decoder.feed(chunk, limit + 1 - len(out))
            while piece:
                out += piece
                if len(out) > limit:
                    raise _too_large(coding, limit)
                piece = decoder.more(limit + 1 - len(out))
    except (zlib.error, EOFError) as exc:
        raise GatewayError(400, f"malformed {coding} body: {exc}") from None
    except Exception as exc:
        if zstandard is not None and isinstance(exc, zstandard.ZstdError):
            raise GatewayError(400, f"malformed {coding} body: {exc}") from None
        raise
    if read and not decoder.finished():
        raise GatewayError(400, f"malformed {coding} body: it ends before the compressed stream does")
    return bytes(out)


def _too_large(coding: str, limit: int) -> GatewayError:
    return GatewayError(413, f"request body too large: over {limit} bytes once decompressed ({coding})")


# ---------------------------------------------------------------- replies


def _accepted(header: str) -> dict[str, float]:
    """Accept-Encoding as {coding: q}."""
    accepted: dict[str, float] = {}
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        accepted[name] = q
    return accepted


def reply_coding(accept_encoding: str) -> str | None:
    """The coding to compress a reply with, or None to send it as it is."""
    if not accept_encoding:
        return None
    accepted = _accepted(accept_encoding)
    star = accepted.get("*", 0.0)
    best, best_q = None, 0.0
    for coding in ("zstd", "gzip") if zstandard is not None else ("gzip",):
        q = accepted.get(coding, star)
        if q > best_q:
            best, best_q = coding, q
    return best


def compress(data: bytes, coding: str) -> bytes:
    if coding == "gzip":
        c = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        return c.compress(data) + c.flush()
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data)  # type: ignore[union-attr]


async def compress_reply(request: web.Request, response: web.StreamResponse) -> None:
    """Compress a prepared-to-be reply's body in place when the client accepts it."""
    if not isinstance(response, web.Response) or response.prepared:
        return
    body = response.body
    if not isinstance(body, bytes) or "Content-Encoding" in response.headers:
        return
    response.headers.add("Vary", "Accept-Encoding")
    if len(body) < MIN_COMPRESS_BYTES:
        return
    coding = reply_coding(request.headers.get("Accept-Encoding", ""))
    if coding is None:
        return
    if len(body) >= THREAD_COMPRESS_BYTES:
        data = await asyncio.to_thread(compress, body, coding)
    else:
        data = compress(body, coding)
    response.body = data
    response.headers["Content-Encoding"] = coding
