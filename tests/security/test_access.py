"""Access control with SV_AUTH=required: at the gateway (HTTP) and at the services (gRPC)."""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest
from storyverse.analytics.v1 import analytics_service_pb2 as pb
from storyverse.analytics.v1 import analytics_service_pb2_grpc as pb_grpc

from common.auth import KeyStore, generate, secret_digest
from common.limits import merged_calls
from common.scopes import ADMIN, METHOD_SCOPES, scope_of
from gateway.routes import build_router
from tests.events import event, event_dict

REPORT = "/api/analytics/reports/engagement"
DENIED = (401, 403)  # anything else got past access control (reports may still be 501 on a branch)


async def get(http, url, token=None, bearer=False):
    headers = {}
    if token:
        headers = {"Authorization": f"Bearer {token}"} if bearer else {"X-Api-Key": token}
    async with http.get(url, headers=headers) as resp:
        return resp.status, await resp.json(), resp.headers


async def test_no_key_is_401_with_the_json_error_shape(http, secured):
    status, body, headers = await get(http, secured.gateway_url + REPORT)
    assert status == 401
    assert body["code"] == 401 and "API key" in body["message"]
    assert headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_key_with_the_scope_passes_by_header_or_bearer(http, secured):
    assert (await get(http, secured.gateway_url + REPORT, secured.keys["read"]))[0] not in DENIED
    assert (await get(http, secured.gateway_url + REPORT, secured.keys["read"], bearer=True))[0] not in DENIED


@pytest.mark.parametrize(
    "key, method, path, expected",
    [
        ("ingest", "GET", REPORT, 403),
        ("read", "POST", "/api/analytics/events", 403),
        ("ingest", "POST", "/api/analytics/events", 200),
        ("read", "DELETE", "/api/admin/users/nobody-1", 403),
        ("admin", "GET", REPORT, 403),
        ("revoked", "GET", REPORT, 401),
    ],
)
async def test_scopes_per_route(http, secured, key, method, path, expected):
    body = json.dumps(event_dict()) if method == "POST" else None
    headers = {"X-Api-Key": secured.keys[key], "Content-Type": "application/json"}
    async with http.request(method, secured.gateway_url + path, data=body, headers=headers) as resp:
        assert resp.status == expected, await resp.text()


async def test_forged_and_malformed_keys_are_401(http, secured):
    genuine = secured.keys["read"]
    forged = genuine[:-4] + ("AAAA" if not genuine.endswith("AAAA") else "BBBB")
    for token in (forged, "sv_000000000000_" + "A" * 43, "nonsense", "x" * 5000):
        assert (await get(http, secured.gateway_url + REPORT, token))[0] == 401


async def test_the_openapi_document_and_health_stay_public(http, secured):
    for path in ("/api/openapi.json", "/healthz"):
        async with http.get(secured.gateway_url + path) as resp:
            assert resp.status == 200


async def test_services_hold_internal_callers_to_the_same_rules(secured):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{secured.analytics_port}") as channel:
        stub = pb_grpc.AnalyticsServiceStub(channel)
        request = pb.RecordEventRequest(event=event())
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.RecordEvent(request)
        assert missing.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.aio.AioRpcError) as wrong_scope:
            await stub.RecordEvent(request, metadata=(("x-api-key", secured.keys["read"]),))
        assert wrong_scope.value.code() == grpc.StatusCode.PERMISSION_DENIED
        reply = await stub.RecordEvent(
            request, metadata=(("authorization", f"Bearer {secured.keys['ingest']}"),)
        )
        assert reply.result.accepted == 1


async def test_the_rate_limit_answers_429_with_retry_after(http, secured):
    # All at once: the bucket (burst 20, 2/s) must empty however slow each report is here.
    replies = await asyncio.gather(
        *(get(http, secured.gateway_url + REPORT, secured.keys["burst"]) for _ in range(40))
    )
    statuses = [status for status, _, _ in replies]
    retry = next((headers.get("Retry-After") for status, _, headers in replies if status == 429), None)
    assert any(s not in (*DENIED, 429) for s in statuses) and 429 in statuses
    assert retry is not None and int(retry) >= 1


async def test_merged_single_events_are_charged_one_call_each(http, secured, db):
    """The gateway merges single events into batch calls (gateway/merged_events.py); the key's
    bucket (burst 20, 2/s) still lets about 20 of 60 simultaneous events through, not 60."""
    key = generate()
    await KeyStore(db).create(key, "test-merged", ["ingest"])

    async def send(body):
        async with http.post(
            secured.gateway_url + "/api/analytics/events", json=body, headers={"X-Api-Key": key.token}
        ) as resp:
            return resp.status, resp.headers.get("Retry-After")

    replies = await asyncio.gather(*(send(event_dict()) for _ in range(60)))
    statuses = [status for status, _ in replies]
    assert set(statuses) <= {200, 429}, statuses
    assert 1 <= statuses.count(200) <= 26, statuses  # 20 in the bucket, a few refilled meanwhile
    assert all(int(retry) >= 1 for status, retry in replies if status == 429)


def test_merged_calls_only_ever_cost_more():
    assert merged_calls((("x-sv-merged-calls", "7"),)) == 7
    assert merged_calls((("x-sv-merged-calls", "0"),)) == 1
    assert merged_calls((("x-sv-merged-calls", "-5"),)) == 1
    assert merged_calls((("x-sv-merged-calls", "lots"),)) == 1
    assert merged_calls((("x-sv-merged-calls", "99999"),)) == 1000
    assert merged_calls(()) == 1


async def test_keys_are_stored_hashed(db):
    key = generate()
    await KeyStore(db).create(key, "hash-check", ["read"])
    row = await db.fetchrow("SELECT * FROM api_keys WHERE key_id = $1", key.key_id)
    assert row["secret_sha256"] == secret_digest(key.token)
    assert key.token not in {str(v) for v in row.values()}
    assert key.token.split("_")[-1] not in str(dict(row))


def test_every_rpc_of_the_contract_has_a_scope_and_new_ones_need_admin():
    for route in build_router().routes:
        # Every RPC of the contract is classified explicitly (new ones default to admin).
        assert route.grpc_path in METHOD_SCOPES or route.method.containing_service.name == "AdminService"
        if route.template.source.startswith("/api/admin/"):
            assert scope_of(route.grpc_path) == ADMIN, route.grpc_path
    assert scope_of("/storyverse.x.v1.New/Thing") == ADMIN


@pytest.mark.parametrize("mode", ["requried", "on", "true", "REQUIRED"])
def test_an_unknown_auth_mode_stops_start_up(settings, mode):
    from dataclasses import replace

    from common.auth import auth_required

    with pytest.raises(ValueError, match="SV_AUTH"):
        auth_required(replace(settings, auth=mode))


async def test_a_key_store_that_cannot_answer_is_503_not_500(http, settings, secured):
    """The gateway's key-store pool exhausted (its one connection held here): the caller
    gets 503 with Retry-After, the answer for any dependency that is busy or down."""
    from dataclasses import replace

    from aiohttp.test_utils import TestServer

    from gateway.app import create_app
    from gateway.auth import AUTHENTICATOR

    strict = replace(
        settings, auth="required", auth_cache_seconds=0.0, db_pool_min=1, db_pool_max=1,
        db_acquire_timeout_seconds=0.5, analytics_target=f"127.0.0.1:{secured.analytics_port}",
    )  # fmt: skip
    server = TestServer(create_app(strict), host="127.0.0.1")
    await server.start_server()
    try:
        url = str(server.make_url(REPORT))
        assert (await get(http, url, secured.keys["read"]))[0] not in (*DENIED, 503)
        async with server.app[AUTHENTICATOR].store.pool.acquire():
            status, body, headers = await get(http, url, secured.keys["read"])
        assert status == 503, body
        assert body["code"] == 503 and "retry" in body["message"]
        assert headers["Retry-After"] == "1"
        assert (await get(http, url, secured.keys["read"]))[0] not in (*DENIED, 503)  # and back
    finally:
        await server.close()
