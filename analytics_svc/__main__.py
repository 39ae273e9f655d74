"""python -m analytics_svc: run the usage analytics gRPC service alone.

With SV_ANALYTICS_WORKERS other than 1 this process supervises that many workers
(0: one per core) sharing the port (common/service_main.py, common/workers.py).
"""

from analytics_svc.service import SPEC
from common.service_main import run_service

if __name__ == "__main__":
    run_service(SPEC, "analytics", "analytics_svc")
