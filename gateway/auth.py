"""API keys at the edge: with SV_AUTH=required every /api call (but the OpenAPI
document) needs a key with the route's scope, checked here before any backend is
called, and again by the service (common/limits.py), which holds internal callers
to the same rules. 401 without a valid key, 403 with a key lacking the scope, 503 when the key store
cannot answer (its database busy or down)."""

from __future__ import annotations

import logging
from dataclasses import replace

from aiohttp import web

from common.auth import Authenticator, KeyStore, auth_required
from common.database import create_pool, database_url
from common.errors import PermissionDenied, ServiceError, is_dependency_unavailable
from common.settings import Settings
from gateway.errors import GatewayError
from gateway.routes import MethodNotAllowed, RouteNotFound, Router

AUTHENTICATOR = web.AppKey("authenticator", Authenticator)
PUBLIC_PATHS = frozenset({"/api/openapi.json"})
log = logging.getLogger("gateway.auth")


def install(app: web.Application, settings: Settings, router: Router) -> None:
    """Add the key check to app when the settings require keys (the open profile checks nothing)."""
    if not auth_required(settings):
        return

    async def lifecycle(app: web.Application):
        pool = await create_pool(replace(settings, db_pool_min=1), database_url(settings))
        app[AUTHENTICATOR] = Authenticator(KeyStore(pool), settings)
        yield
        await pool.close()

    @web.middleware
    async def require_api_key(request: web.Request, handler) -> web.StreamResponse:
        if request.path.startswith("/api/") and request.path not in PUBLIC_PATHS:
            try:
                route, _ = router.resolve(request.method, request.raw_path.split("?", 1)[0])
            except (RouteNotFound, MethodNotAllowed):
                return await handler(request)  # answered 404/405 by the handler, nothing to protect
            try:
                await app[AUTHENTICATOR].authorize(route.grpc_path, request.headers.items())
            except ServiceError as exc:
                status = 403 if isinstance(exc, PermissionDenied) else 401
                headers = {} if status == 403 else {"WWW-Authenticate": 'Bearer realm="storyverse"'}
                raise GatewayError(status, exc.message, headers=headers) from None
            except Exception as exc:
                # The key store's database busy or down: the caller may retry, as with any backend.
                if not is_dependency_unavailable(exc):
                    raise
                log.warning("API key check unavailable: %r", exc)
                raise GatewayError(
                    503, "a dependency is unavailable, retry later", headers={"Retry-After": "1"}
                ) from None
        return await handler(request)

    app.cleanup_ctx.append(lifecycle)
    app.middlewares.append(require_api_key)
