"""`python -m analytics_svc` / `python -m reco_svc`: one gRPC service alone, on its workers.

    if __name__ == "__main__":
        run_service(SPEC, "reco", "reco_svc")

With SV_<SERVICE>_WORKERS other than 1 (0: one per core) the process supervises that many
workers sharing the port (common/workers.py); each worker is the same module with --worker.
The database URL is resolved once, in the supervisor: an embedded PostgreSQL starts there,
not in every worker.
"""

from __future__ import annotations

import asyncio
import sys

from common.database import database_url
from common.grpc_server import ServiceSpec, serve
from common.logs import configure_logging
from common.settings import Settings
from common.workers import die_with_parent, supervise_module, worker_count


def run_service(spec: ServiceSpec, service: str, module: str) -> None:
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    worker = "--worker" in sys.argv[1:]
    if worker:
        die_with_parent()
    workers = 1 if worker else worker_count(getattr(settings, f"{service}_workers"))
    if workers > 1:
        banner = f"{spec.name}: {workers} workers on {{host}}:{{port}}"
        shared = {"SV_DATABASE_URL": database_url(settings)}
        sys.exit(supervise_module(module, workers, settings, service, banner, shared))
    asyncio.run(serve([(spec, getattr(settings, f"{service}_port"))], settings, reuse_port=worker))
