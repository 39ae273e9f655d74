"""python -m reco_svc: run the recommendation gRPC service alone.

With SV_RECO_WORKERS other than 1 this process supervises that many workers (0: one per
core) sharing the port (common/workers.py); each worker is this same module with --worker
and is a replica of its own, exactly as a second pod would be: its model from the artifact
store, its catalog snapshot, its features (in Redis with SV_REDIS_URL, shared; otherwise in
its memory, following every event under a consumer group of its own, reco_svc/live.py).
A Recommend call costs a few milliseconds of one core: one process saturates near 500
calls/s, so a host with more cores serves more with more workers.
"""

import asyncio
import sys

from common.database import database_url
from common.grpc_server import serve
from common.logs import configure_logging
from common.settings import Settings
from common.workers import die_with_parent, supervise_module, worker_count
from reco_svc.service import SPEC


def supervise(settings: Settings, workers: int) -> int:
    return supervise_module(
        "reco_svc",
        workers,
        host=settings.host,
        port_variable="SV_RECO_PORT",
        port=settings.reco_port,
        workers_variable="SV_RECO_WORKERS",
        metrics_port=settings.metrics_port,
        grace=settings.shutdown_grace_seconds,
        banner=f"recommendation: {workers} workers on {{host}}:{{port}}",
        # Resolved once for all: the embedded PostgreSQL starts here, not in every worker.
        shared={"SV_DATABASE_URL": database_url(settings)},
    )


if __name__ == "__main__":
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    worker = "--worker" in sys.argv[1:]
    if worker:
        die_with_parent()
    workers = 1 if worker else worker_count(settings.reco_workers)
    if workers > 1:
        sys.exit(supervise(settings, workers))
    asyncio.run(serve([(SPEC, settings.reco_port)], settings, reuse_port=worker))
