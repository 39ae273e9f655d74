"""The services process under tracemalloc: where memory that stays allocated was allocated.

    python -m bench.soak --minutes 7 --tracemalloc     # runs the services through this module

Runs the three services as `python -m system.services` does. After a warm-up
(tracing everything from the start slows the services several-fold and distorts the soak)
it starts tracemalloc with one frame per allocation, takes a baseline, and every interval
appends a JSON line to SV_SOAK_TRACEMALLOC_OUT: RSS, traced MiB, and the source lines whose
live allocations grew most since the baseline. A leak shows as one line growing steadily.
"""

from __future__ import annotations

import json
import os
import threading
import time
import tracemalloc
from pathlib import Path

WARM_UP_SECONDS = 90.0
INTERVAL_SECONDS = 30.0
TOP = 15


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _watch(out: Path) -> None:
    started = time.monotonic()
    time.sleep(WARM_UP_SECONDS)
    tracemalloc.start(1)
    baseline = tracemalloc.take_snapshot()
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    while True:
        time.sleep(INTERVAL_SECONDS)
        snapshot = tracemalloc.take_snapshot().filter_traces(ignore)
        growth = snapshot.compare_to(baseline.filter_traces(ignore), "lineno")[:TOP]
        record = {
            "t": round(time.monotonic() - started),
            "rss_mib": round(_rss_mib(), 1),
            "traced_mib": round(tracemalloc.get_traced_memory()[0] / 2**20, 2),
            "growth": [
                {
                    "where": f"{s.traceback[0].filename}:{s.traceback[0].lineno}",
                    "mib": round(s.size_diff / 2**20, 3),
                    "objects": s.count_diff,
                }
                for s in growth
            ],
        }
        with out.open("a") as f:
            f.write(json.dumps(record) + "\n")


def main() -> None:
    from system.services import run_services

    out = Path(os.environ.get("SV_SOAK_TRACEMALLOC_OUT", "tracemalloc.jsonl"))
    threading.Thread(target=_watch, args=(out,), daemon=True).start()
    run_services()


if __name__ == "__main__":
    main()
