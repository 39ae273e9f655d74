"""`python -m gateway`: serve the HTTP gateway with settings from the environment (SV_*)."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

# The generated stubs live in gen/ at the repository root.
_GEN = Path(__file__).resolve().parent.parent / "gen"
if _GEN.is_dir() and str(_GEN) not in sys.path:
    sys.path.insert(0, str(_GEN))

from common import telemetry  # noqa: E402
from common.logs import configure_logging  # noqa: E402
from common.settings import Settings  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.protocol import GatewayRunner  # noqa: E402
from gateway.slow_clients import listen  # noqa: E402


async def serve(settings: Settings) -> None:
    # handler_cancellation: a client that disconnects cancels its handler and so its gRPC call
    # (ends WatchAlerts streams promptly). shutdown_timeout: grace for in-flight requests.
    telemetry.setup("gateway", settings)
    runner = GatewayRunner(
        create_app(settings),
        handler_cancellation=True,
        shutdown_timeout=settings.shutdown_grace_seconds,
        access_log=None,
    )
    await runner.setup()
    # Instead of web.TCPSite: the same listener, with a deadline on request headers.
    listener = await listen(runner, settings)
    print(f"gateway listening on http://{settings.host}:{settings.gateway_port}", flush=True)

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
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
