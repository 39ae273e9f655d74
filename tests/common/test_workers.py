"""The worker side of common/workers.py, in real processes: no orphan outlives its supervisor."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

from common.settings import REPO_ROOT
from common.workers import SUPERVISOR_PID

_WORKER = "from common.workers import die_with_parent; die_with_parent(); import time; time.sleep(30)"


def _start_worker(supervisor: int) -> subprocess.Popen:
    env = {**os.environ, SUPERVISOR_PID: str(supervisor), "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen([sys.executable, "-c", _WORKER], cwd=REPO_ROOT, env=env)


def test_a_worker_whose_supervisor_died_before_it_started_stops_at_once():
    """A slow start: the supervisor is gone (killed) before the worker asks for the death signal,
    so the kernel will never send it; the worker sees its parent is not the supervisor it was
    started by."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    worker = _start_worker(gone.pid)
    assert worker.wait(timeout=20) == -15  # SIGTERM, long before its 30 s sleep


def test_a_worker_of_a_living_supervisor_keeps_running():
    worker = _start_worker(os.getpid())  # this test process is its parent
    try:
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.wait(timeout=3)
        assert worker.poll() is None
    finally:
        worker.kill()
        worker.wait()
