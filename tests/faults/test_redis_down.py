"""Per-key rate limits with Redis: shared by every replica while Redis answers; when it is
down each process falls back to its own buckets at once (calls keep working, still limited)."""

from __future__ import annotations

import socket
import time
import uuid
from dataclasses import replace

import grpc
import pytest
from storyverse.analytics.v1 import analytics_service_pb2 as pb
from storyverse.analytics.v1 import analytics_service_pb2_grpc as pb_grpc

from common.auth import KeyStore, generate
from common.bus.inprocess import InProcessBus
from common.grpc_server import start
from tests.conftest import free_port
from tests.events import event

REDIS = ("127.0.0.1", 6379)


def redis_up() -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(REDIS) == 0


async def outcomes(ports: list[int], token: str, calls: int) -> list[str]:
    codes = []
    for n in range(calls):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{ports[n % len(ports)]}") as channel:
            try:
                await pb_grpc.AnalyticsServiceStub(channel).GetDashboard(
                    pb.GetDashboardRequest(), metadata=(("x-api-key", token),), timeout=5
                )
                codes.append("OK")
            except grpc.aio.AioRpcError as exc:
                codes.append(exc.code().name)
    return codes


async def services(settings, count: int, redis_url: str):
    from analytics_svc.service import SPEC

    strict = replace(
        settings, auth="required", rate_limit_per_second=0.05, rate_limit_burst=3, redis_url=redis_url
    )
    # A bus each, as replicas in separate processes have (in process a group has one subscriber).
    return [await start(SPEC, strict, 0, InProcessBus()) for _ in range(count)]


async def new_key(db) -> str:
    key = generate()
    await KeyStore(db).create(key, f"redis-{uuid.uuid4().hex[:6]}", ["read", "ingest"])
    return key.token


async def test_redis_down_the_limits_fall_back_to_each_process(settings, db):
    running = await services(settings, 1, f"redis://127.0.0.1:{free_port()}/0")
    try:
        token = await new_key(db)
        began = time.monotonic()
        codes = await outcomes([running[0].port], token, 5)
        # The dead Redis costs one short timeout, then the breaker answers at once (generous for loaded CI).
        assert time.monotonic() - began < 8.0
        allowed = [c for c in codes if c != "RESOURCE_EXHAUSTED"]
        assert len(allowed) == 3 and codes[-1] == "RESOURCE_EXHAUSTED"
        assert "INTERNAL" not in codes and "UNAVAILABLE" not in codes
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running[0].port}") as channel:
            reply = await pb_grpc.AnalyticsServiceStub(channel).RecordEvent(
                pb.RecordEventRequest(event=event()), metadata=(("x-api-key", await new_key(db)),), timeout=5
            )
            assert reply.result.accepted == 1
    finally:
        for service in running:
            await service.stop(grace=1)


@pytest.mark.skipif(not redis_up(), reason="no Redis on 127.0.0.1:6379")
async def test_with_redis_one_key_has_one_bucket_across_replicas(settings, db):
    running = await services(settings, 2, "redis://127.0.0.1:6379/0")
    try:
        token = await new_key(db)  # a fresh key: a fresh bucket
        codes = await outcomes([s.port for s in running], token, 6)
        # Burst 3 for the key across both replicas (each alone would allow 3, 6 in all).
        assert len([c for c in codes if c != "RESOURCE_EXHAUSTED"]) == 3, codes
    finally:
        for service in running:
            await service.stop(grace=1)
