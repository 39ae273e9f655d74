"""python -m analytics_svc: run the usage analytics gRPC service alone.

With SV_ANALYTICS_WORKERS other than 1 this process supervises that many workers
(0: one per core) sharing the port (common/workers.py); each worker is this same
module with --worker.
"""

import asyncio
import socket
import sys

from analytics_svc.service import SPEC
from common.database import database_url
from common.grpc_server import serve
from common.logs import configure_logging
from common.settings import Settings
from common.workers import Supervisor, die_with_parent, worker_count


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def supervise(settings: Settings, workers: int) -> int:
    # Resolved once for all: the embedded PostgreSQL starts here, not in every worker.
    shared = {
        "SV_DATABASE_URL": database_url(settings),
        "SV_ANALYTICS_PORT": str(settings.analytics_port or _free_port(settings.host)),
        "SV_ANALYTICS_WORKERS": "1",
    }

    def env_for(i: int) -> dict[str, str]:
        # One /metrics endpoint per worker: each has its own counters.
        metrics = {"SV_METRICS_PORT": str(settings.metrics_port + i)} if settings.metrics_port else {}
        return {**shared, **metrics}

    command = [sys.executable, "-m", "analytics_svc", "--worker"]
    print(f"analytics: {workers} workers on {settings.host}:{shared['SV_ANALYTICS_PORT']}", flush=True)
    return Supervisor(command, workers, env_for, settings.shutdown_grace_seconds).run()


if __name__ == "__main__":
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    worker = "--worker" in sys.argv[1:]
    if worker:
        die_with_parent()
    workers = 1 if worker else worker_count(settings.analytics_workers)
    if workers > 1:
        sys.exit(supervise(settings, workers))
    asyncio.run(serve([(SPEC, settings.analytics_port)], settings, reuse_port=worker))
