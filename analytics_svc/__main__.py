"""python -m analytics_svc: run the usage analytics gRPC service alone.

With SV_ANALYTICS_WORKERS other than 1 this process supervises that many workers
(0: one per core) sharing the port (common/workers.py); each worker is this same
module with --worker.
"""

import asyncio
import sys

from analytics_svc.service import SPEC
from common.database import database_url
from common.grpc_server import serve
from common.logs import configure_logging
from common.settings import Settings
from common.workers import die_with_parent, supervise_module, worker_count


def supervise(settings: Settings, workers: int) -> int:
    return supervise_module(
        "analytics_svc",
        workers,
        host=settings.host,
        port_variable="SV_ANALYTICS_PORT",
        port=settings.analytics_port,
        workers_variable="SV_ANALYTICS_WORKERS",
        metrics_port=settings.metrics_port,
        grace=settings.shutdown_grace_seconds,
        banner=f"analytics: {workers} workers on {{host}}:{{port}}",
        # Resolved once for all: the embedded PostgreSQL starts here, not in every worker.
        shared={"SV_DATABASE_URL": database_url(settings)},
    )


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
