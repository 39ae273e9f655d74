"""The floor under every RPC: server CPU of an empty unary call in grpc.aio on this machine.

    PYTHONPATH=.:gen python -m bench.grpc_floor [--calls 20000] [--concurrency 64]

Starts a grpc.aio server with one generic method that answers b"ok" (no protobuf, no
interceptors, no database) in a child process, drives it from this process over
loopback like bench.ingest does, and prints the server's CPU per call. Whatever the
analytics service spends per call above this is ours; a batch of 100 events pays this
floor once, so it is at least floor/100 of the service's CPU per event.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time

import grpc

from bench.ingest import _free_port
from bench.load import cpu_seconds

METHOD = "/storyverse.bench.Floor/Empty"


async def _serve(port: int) -> None:
    async def empty(request: bytes, context) -> bytes:
        return b"ok"

    handler = grpc.method_handlers_generic_handler(
        "storyverse.bench.Floor", {"Empty": grpc.unary_unary_rpc_method_handler(empty)}
    )
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


async def _drive(port: int, calls: int, concurrency: int, server_pid: int) -> tuple[float, float]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        await asyncio.wait_for(channel.channel_ready(), timeout=30)
        call = channel.unary_unary(METHOD)
        for _ in range(200):  # warm-up
            await call(b"x")
        before = cpu_seconds({"server": [server_pid]})["server"]
        started = time.perf_counter()

        async def caller(count: int) -> None:
            for _ in range(count):
                await call(b"x")

        await asyncio.gather(*(caller(calls // concurrency) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        used = cpu_seconds({"server": [server_pid]})["server"] - before
    done = calls // concurrency * concurrency
    return done / elapsed, used / done * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args.serve))
        return
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "bench.grpc_floor", "--serve", str(port)])
    try:
        rate, cpu = asyncio.run(_drive(port, args.calls, args.concurrency, server.pid))
    finally:
        server.kill()
        server.wait()
    print(
        f"empty unary calls, {args.concurrency} callers: {rate:,.0f} calls/s, "
        f"server CPU {cpu:,.0f} µs per call"
    )


if __name__ == "__main__":
    main()
