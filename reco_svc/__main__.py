"""python -m reco_svc: run the recommendation gRPC service alone.

With SV_RECO_WORKERS other than 1 this process supervises that many workers (0: one per
core) sharing the port (common/service_main.py, common/workers.py); each worker is a
replica of its own, exactly as a second pod would be: its model from the artifact store,
its catalog snapshot, its features (in Redis with SV_REDIS_URL, shared; otherwise in
its memory, following every event under a consumer group of its own, reco_svc/live.py).
A Recommend call costs a few milliseconds of one core: one process saturates near 500
calls/s, so a host with more cores serves more with more workers.
"""

from common.service_main import run_service
from reco_svc.service import SPEC

if __name__ == "__main__":
    run_service(SPEC, "reco", "reco_svc")
