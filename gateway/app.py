"""The aiohttp application: routing, transcoding, calling the backends, health and docs."""

from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path

import grpc
from aiohttp import web

from common.settings import Settings
from gateway import auth, openapi
from gateway.backends import Backends
from gateway.compression import compress_reply
from gateway.errors import GatewayError, error_response, from_http_exception, from_rpc_error
from gateway.fast_transcode import FastTranscoder
from gateway.merged_events import BATCH_PATH, SINGLE_PATH, EventMerger
from gateway.reserved import Reserved, refuse_reserved, write_checks
from gateway.routes import MethodNotAllowed, Route, RouteNotFound, Router, build_router
from gateway.slow_clients import MAX_BYTES, closes_connection, read_body, request_bounds
from gateway.telemetry import http_telemetry, metrics_endpoint, trace_metadata, traced_call
from gateway.transcode import (
    JSON_CONTENT_TYPE,
    NDJSON_CONTENT_TYPE,
    build_request,
    dumps,
    render_response,
    render_stream_error,
    render_stream_item,
)

log = logging.getLogger("gateway")

STATIC_DIR = Path(__file__).parent / "static"
REQUEST_ID_HEADER = "X-Request-Id"
# HTTP headers forwarded to the services as gRPC metadata (lower-case, as gRPC requires).
FORWARDED_HEADERS = ("authorization", "x-api-key")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_METADATA_VALUE = re.compile(r"[\x20-\x7e]*")

ROUTER = web.AppKey("router", Router)
BACKENDS = web.AppKey("backends", Backends)
SETTINGS = web.AppKey("settings", Settings)
OPENAPI = web.AppKey("openapi", bytes)
RESERVED = web.AppKey("reserved", dict[Route, list[Reserved]])
FAST = web.AppKey("fast_transcoder", FastTranscoder)
MERGER = web.AppKey("event_merger", EventMerger)
REQUEST_ID = web.RequestKey("request_id", str)


def create_app(settings: Settings, router: Router | None = None) -> web.Application:
    router = router or build_router()
    # client_max_size makes aiohttp answer 413 once a body grows past the limit; request_bounds
    # refuses a declared oversize body before reading it (slow_clients.py).
    middlewares = [http_telemetry(router), json_errors, request_bounds]
    app = web.Application(client_max_size=settings.max_request_bytes, middlewares=middlewares)
    app[SETTINGS] = settings
    app[MAX_BYTES] = settings.max_request_bytes
    app[ROUTER] = router
    app[BACKENDS] = Backends(settings)
    app[OPENAPI] = dumps(openapi.build_document(router))
    app[FAST] = FastTranscoder(router.routes)
    app[RESERVED] = write_checks(router)  # ids a route's literal segment would shadow (reserved.py)
    app.cleanup_ctx.append(_backends_lifecycle)
    auth.install(app, settings, router)  # API keys when SV_AUTH=required (gateway/auth.py)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)
    app.router.add_get("/api/openapi.json", openapi_json)
    app.router.add_route("*", "/api/{tail:.*}", transcode_call)
    if STATIC_DIR.is_dir():
        app.router.add_get("/{file:.*}", static_file)
    return app


async def _backends_lifecycle(app: web.Application):
    backends = app[BACKENDS]
    backends.open(app[ROUTER])  # channels need the running loop, hence here and not in create_app
    if app[SETTINGS].gateway_merge_events:
        batch = next(route for route in backends.calls if route.grpc_path == BATCH_PATH)
        app[MERGER] = EventMerger(backends.raw_call(batch), app[SETTINGS])
    yield
    await backends.close()


@web.middleware
async def json_errors(request: web.Request, handler) -> web.StreamResponse:
    """Every error leaves the gateway in the same JSON shape, with the request id."""
    request_id = request.headers.get(REQUEST_ID_HEADER, "")
    if not _REQUEST_ID.fullmatch(request_id):  # it goes into logs and gRPC metadata: keep it tame
        request_id = uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    try:
        response = await handler(request)
        if isinstance(response, web.HTTPException) and response.status >= 400:
            response = error_response(from_http_exception(response))  # e.g. the static files' 404
    except GatewayError as exc:
        response = error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = error_response(from_http_exception(exc))
    except Exception:
        log.exception("unhandled error on %s %s (request id %s)", request.method, request.path, request_id)
        response = error_response(GatewayError(500, "internal gateway error"))
    if not response.prepared:
        response.headers[REQUEST_ID_HEADER] = request_id
        closes_connection(response)
        await compress_reply(request, response)  # when the client accepts it (compression.py)
    return response


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when every backend's gRPC health service answers SERVING."""
    backends = await request.app[BACKENDS].health()
    ready = all(status == "SERVING" for status in backends.values())
    return web.json_response({"ready": ready, "backends": backends}, status=200 if ready else 503)


async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(body=request.app[OPENAPI], content_type=JSON_CONTENT_TYPE)


async def static_file(request: web.Request) -> web.FileResponse:
    """Files of gateway/static; `/` is index.html. Our own handler (not add_static) so that a
    missing file is a JSON 404 like every other error."""
    relative = request.match_info["file"] or "index.html"
    root = STATIC_DIR.resolve()
    path = (root / relative).resolve()
    if path.is_dir():
        path = path / "index.html"
    if not path.is_relative_to(root) or not path.is_file():
        raise GatewayError(404, f"no such page: {request.path}")
    return web.FileResponse(path)


async def transcode_call(request: web.Request) -> web.StreamResponse:
    try:
        route, path_params = request.app[ROUTER].resolve(request.method, request.raw_path.split("?", 1)[0])
    except RouteNotFound:
        raise GatewayError(404, f"no route for {request.path}") from None
    except MethodNotAllowed as exc:
        raise GatewayError(
            405,
            f"{request.method} is not allowed on {request.path}",
            headers={"Allow": ", ".join(exc.allowed)},
        ) from None

    settings = request.app[SETTINGS]
    raw_body = (
        await read_body(request, settings.gateway_body_timeout_seconds) if request.can_read_body else b""
    )
    query = {name: request.query.getall(name) for name in request.query}
    # The hot routes' planned transcoding (fast_transcode.py); anything it does not cover: build_request.
    message = request.app[FAST].request(route, path_params, query, raw_body)
    if message is None:
        message = build_request(route, path_params, query, raw_body)
    if reserved := request.app[RESERVED].get(route):
        refuse_reserved(reserved, message)
    call = request.app[BACKENDS].calls[route]
    metadata = _metadata(request)
    if route.server_streaming:
        return await _stream(request, route, call(message, metadata=metadata + trace_metadata()))
    merger = request.app.get(MERGER)
    try:
        reply = None  # merged with other callers' events, answered as its own call would be
        if merger is not None and route.grpc_path == SINGLE_PATH and message.HasField("event"):
            reply = await merger.record(message.event, metadata)
        elif merger is not None and route.grpc_path == BATCH_PATH:
            reply = await merger.record_batch(message, metadata)  # None: not mergeable
        if reply is None:
            reply = await traced_call(
                call, message, metadata, settings.gateway_deadline_seconds, route.grpc_path
            )
    except grpc.aio.AioRpcError as exc:
        raise from_rpc_error(exc) from None
    body, content_type = render_response(route, reply)
    # As a header, verbatim: web.Response(content_type=...) refuses a charset parameter, and
    # an HttpBody's content type may carry one ("text/csv; charset=utf-8" from ExportReport).
    return web.Response(body=body, headers={"Content-Type": content_type})


def _metadata(request: web.Request) -> tuple[tuple[str, str], ...]:
    pairs = []
    for name in FORWARDED_HEADERS:
        if name in request.headers:
            value = request.headers[name]
            if not _METADATA_VALUE.fullmatch(value):  # gRPC metadata values are printable ASCII
                raise GatewayError(400, f"header {name} must be printable ASCII")
            pairs.append((name, value))
    pairs.append(("x-request-id", request[REQUEST_ID]))
    return tuple(pairs)


async def _stream(request: web.Request, route: Route, call: grpc.aio.UnaryStreamCall) -> web.StreamResponse:
    """NDJSON, one {"result": ...} per message, flushed as it comes, until either side ends.

    No deadline: a watch lasts as long as the client stays. When the client goes away
    the handler is cancelled (handler_cancellation=True) and so is the gRPC call.

    The HTTP headers go out with the service's initial metadata, which a watching service
    sends once the watch is registered: a client that has the headers sees every later
    message. A call refused at once (trailers only) keeps its HTTP status instead."""
    response = web.StreamResponse(headers={REQUEST_ID_HEADER: request[REQUEST_ID]})
    response.content_type = NDJSON_CONTENT_TYPE
    try:
        iterator = call.__aiter__()
        try:
            await call.initial_metadata()
            # Finished already (e.g. refused, trailers only): reading raises its error here.
            pending = [await anext(iterator)] if call.done() else []
        except StopAsyncIteration:
            pending = []
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc) from None
        await response.prepare(request)
        try:
            for item in pending:
                await response.write(render_stream_item(route, item))
            async for item in iterator:
                await response.write(render_stream_item(route, item))
        except grpc.aio.AioRpcError as exc:
            # Too late for a status code: the error travels as the last line.
            await response.write(render_stream_error(from_rpc_error(exc)))
        await response.write_eof()
        return response
    except (ConnectionResetError, OSError):
        log.info("stream client of %s went away", route.template.source)
        return response
    finally:
        call.cancel()
