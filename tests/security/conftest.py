"""The system with access control on (SV_AUTH=required): services, gateway and keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import pytest

from common.auth import KeyStore, generate
from common.bus.inprocess import InProcessBus
from tests.conftest import start_service


@dataclass
class Secured:
    analytics_port: int
    gateway_url: str
    keys: dict[str, str]  # name -> token
    key_ids: dict[str, str]


@pytest.fixture(scope="module")
async def secured(settings, db) -> AsyncIterator[Secured]:
    from aiohttp.test_utils import TestServer

    from analytics_svc.service import SPEC as ANALYTICS
    from feedback_svc.service import SPEC as FEEDBACK
    from gateway.app import create_app
    from reco_svc.service import SPEC as RECO

    strict = replace(
        settings, auth="required", auth_cache_seconds=0.0, rate_limit_per_second=2, rate_limit_burst=20
    )
    # A bus of their own: in process a consumer group has one subscriber (the session's services').
    bus = InProcessBus()
    services = [await start_service(spec, strict, bus) for spec in (ANALYTICS, RECO, FEEDBACK)]
    await bus.start()
    store = KeyStore(db)
    keys, key_ids = {}, {}
    for name, scopes in {
        "ingest": ["ingest"],
        "read": ["read"],
        "admin": ["admin"],
        "burst": ["read"],
        "revoked": ["ingest", "read", "admin"],
    }.items():
        key = generate()
        await store.create(key, f"test-{name}", scopes)
        keys[name], key_ids[name] = key.token, key.key_id
    await store.revoke(key_ids["revoked"])
    gateway_settings = replace(
        strict,
        analytics_target=f"127.0.0.1:{services[0].port}",
        reco_target=f"127.0.0.1:{services[1].port}",
        feedback_target=f"127.0.0.1:{services[2].port}",
        rate_limit_per_second=0,
    )
    server = TestServer(create_app(gateway_settings), host="127.0.0.1")
    await server.start_server()
    yield Secured(services[0].port, str(server.make_url("")).rstrip("/"), keys, key_ids)
    await server.close()
    for service in services:
        await service.stop(grace=1)
    await bus.aclose()
