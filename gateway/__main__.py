"""`python -m gateway`: serve the HTTP gateway with settings from the environment (SV_*).

With SV_GATEWAY_WORKERS other than 1 this process supervises that many workers (0: one per
usable core) sharing the port with SO_REUSEPORT (common/workers.py: SIGTERM forwarded, each
worker drains its in-flight requests; a worker that dies is restarted). Each worker is this
module with --worker; with SV_METRICS_PORT, worker i also serves /metrics on that port + i
(the HTTP port's /metrics answers for whichever worker the connection reached).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

# The generated stubs live in gen/ at the repository root.
_GEN = Path(__file__).resolve().parent.parent / "gen"
if _GEN.is_dir() and str(_GEN) not in sys.path:
    sys.path.insert(0, str(_GEN))

from common import telemetry  # noqa: E402
from common.gc_tuning import tune_for_serving  # noqa: E402
from common.logs import configure_logging  # noqa: E402
from common.settings import Settings  # noqa: E402
from common.workers import die_with_parent, supervise_module, worker_count  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.protocol import GatewayRunner  # noqa: E402
from gateway.slow_clients import listen  # noqa: E402


async def serve(settings: Settings, worker: bool = False) -> None:
    # handler_cancellation: a client that disconnects cancels its handler and so its gRPC call
    # (ends WatchAlerts streams promptly). shutdown_timeout: grace for in-flight requests.
    telemetry.setup("gateway", settings)
    if worker and settings.metrics_port:
        telemetry.serve_metrics(settings.host, settings.metrics_port)
    runner = GatewayRunner(
        create_app(settings),
        handler_cancellation=True,
        shutdown_timeout=settings.shutdown_grace_seconds,
        access_log=None,
    )
    await runner.setup()
    # Instead of web.TCPSite: the same listener, with a deadline on request headers.
    listener = await listen(runner, settings, reuse_port=worker)
    # As the services do: each HTTP batch of 100 events leaves thousands of short-lived
    # containers (JSON, routes, spans); young collections of them were ~4 % of a worker's CPU.
    tune_for_serving()
    # One write(2) of the whole line: workers share stdout, and print's separate writes of the
    # text and its newline interleave between them.
    sys.stdout.flush()
    os.write(
        sys.stdout.fileno(), f"gateway listening on http://{settings.host}:{settings.gateway_port}\n".encode()
    )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print("gateway shutting down", flush=True)
    listener.close()  # stop accepting
    await runner.cleanup()  # waits for in-flight requests, closes the channels


def main() -> None:
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)  # JSON with trace_id, like the services
    worker = "--worker" in sys.argv[1:]
    if worker:
        die_with_parent()
    workers = 1 if worker else worker_count(settings.gateway_workers)
    if workers > 1:
        banner = f"gateway: {workers} workers on http://{{host}}:{{port}}"
        sys.exit(supervise_module("gateway", workers, settings, "gateway", banner))
    asyncio.run(serve(settings, worker=worker))


if __name__ == "__main__":
    main()
