"""The gateway's calls go to the least busy of its channels (gateway/backends.py, LeastBusy):
two real gRPC servers on loopback, one slow to answer, stand for a backend's workers that the
kernel gave unequal shares of the gateway's connections."""

from __future__ import annotations

import asyncio
from collections import Counter

import grpc
import pytest

from gateway.backends import LeastBusy

METHOD = "/storyverse.test.Echo/Call"


async def echo_server(name: str, delay: float, answered: Counter) -> tuple[grpc.aio.Server, str]:
    async def call(request: bytes, context) -> bytes:
        await asyncio.sleep(delay)
        answered[name] += 1
        return request

    handler = grpc.method_handlers_generic_handler(
        "storyverse.test.Echo", {"Call": grpc.unary_unary_rpc_method_handler(call)}
    )
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, f"127.0.0.1:{port}"


@pytest.fixture
async def fast_and_slow():
    answered: Counter = Counter()
    servers = [await echo_server("fast", 0.0, answered), await echo_server("slow", 0.05, answered)]
    channels = [grpc.aio.insecure_channel(target) for _, target in servers]
    yield LeastBusy([channel.unary_unary(METHOD) for channel in channels]), answered
    for channel in channels:
        await channel.close()
    for server, _ in servers:
        await server.stop(None)


async def test_the_slower_worker_gets_fewer_calls(fast_and_slow):
    balanced, answered = fast_and_slow
    calls = []
    for _ in range(100):  # one call every 2 ms: the slow server's calls pile up, 25 at a time
        calls.append(asyncio.ensure_future(balanced(b"x", timeout=5)))
        await asyncio.sleep(0.002)
    assert await asyncio.gather(*calls) == [b"x"] * 100
    # Taking turns would give each server 50.
    assert answered["fast"] >= 80, answered
    assert balanced.in_flight == [0, 0]


async def test_idle_channels_take_turns(fast_and_slow):
    balanced, answered = fast_and_slow
    for _ in range(6):  # one at a time: nothing in flight when each is sent
        assert await balanced(b"y", timeout=5) == b"y"
    assert answered == Counter(fast=3, slow=3)


async def test_a_cancelled_or_failed_call_gives_its_channel_back(fast_and_slow):
    balanced, _ = fast_and_slow
    pending = [balanced(b"z", timeout=5) for _ in range(2)]
    assert sorted(balanced.in_flight) == [1, 1]
    for call in pending:
        call.cancel()
    for call in pending:
        with pytest.raises(asyncio.CancelledError):
            await call
    # One to each server; the slow one answers after the deadline.
    outcomes = await asyncio.gather(*(balanced(b"z", timeout=0.02) for _ in range(2)), return_exceptions=True)
    assert b"z" in outcomes
    assert [o.code() for o in outcomes if isinstance(o, grpc.aio.AioRpcError)] == [
        grpc.StatusCode.DEADLINE_EXCEEDED
    ]
    assert balanced.in_flight == [0, 0]
