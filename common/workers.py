"""Several worker processes of one service sharing its port (SO_REUSEPORT).

    python -m analytics_svc            # SV_ANALYTICS_WORKERS=2: this supervisor, two workers

A Python process uses about one core, so a service gets more cores from more
processes. Each worker is a complete service (its own pool, health service, group-
commit writer, in-process bus, real-time counters under a replica id of its own)
bound to the same port with SO_REUSEPORT; the kernel spreads incoming *connections*
over the workers (a gRPC client keeps its connection: one channel talks to one worker,
so load spreads over clients, or over the connections a client opens).

The supervisor itself serves nothing. It
- starts the workers (the command, with the environment of each from `env_for(i)`);
- forwards SIGTERM and SIGINT to every worker, so each goes NOT_SERVING, finishes its
  in-flight calls within the grace period and exits; then it exits (0 when all did);
- restarts a worker that dies on its own (a crash, an OOM kill): the others keep
  serving meanwhile, and health checks are answered by whichever worker the connection
  reached, each SERVING only while its PostgreSQL answers;
- gives up (stops the others, exits 1) when a worker dies within STARTUP_SECONDS of
  its start STARTUP_FAILURES times in a row: a bad setting, not a crash to ride out.
A worker calls `die_with_parent()` first: if the supervisor itself is killed, its
workers get SIGTERM (Linux) instead of serving on as orphans beside a new supervisor's;
a worker still starting when its supervisor died (it names it in SUPERVISOR_PID) stops at once.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping

from common.settings import Settings

STARTUP_SECONDS = 10.0
STARTUP_FAILURES = 3
RESTART_DELAY_SECONDS = 1.0


_PR_SET_PDEATHSIG = 1
# The supervisor's pid, in each worker's environment: a worker's parent at the time it asks
# for the death signal may already be the reaper that adopted it.
SUPERVISOR_PID = "STORYVERSE_SUPERVISOR_PID"


def die_with_parent() -> None:
    """Ask the kernel for SIGTERM when the parent (the supervisor) dies; Linux only."""
    parent = int(os.environ.get(SUPERVISOR_PID) or 0) or os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: orphans are possible there
        return
    if os.getppid() != parent:  # it died before the request took effect (or before this call)
        os.kill(os.getpid(), signal.SIGTERM)


def worker_count(setting: int) -> int:
    """The number of workers for a setting: itself when positive, else one per usable core."""
    if setting > 0:
        return setting
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Supervisor:
    def __init__(
        self, command: list[str], workers: int, env_for: Callable[[int], dict[str, str]], grace: float
    ) -> None:
        self.command = command
        self.env_for = env_for
        self.grace = grace
        self.workers: list[subprocess.Popen | None] = [None] * workers
        self._started_at = [0.0] * workers
        self._quick_failures = [0] * workers
        self._stopping = False

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        for i in range(len(self.workers)):
            self._start(i)
        failed = False
        while not self._stopping:
            failed = self._check_workers()
            if failed:
                break
            time.sleep(0.2)
        code = self._stop_all()
        return 1 if failed else code

    def pids(self) -> list[int]:
        return [w.pid for w in self.workers if w is not None]

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._stopping = True

    def _start(self, i: int) -> None:
        env = {**os.environ, **self.env_for(i), SUPERVISOR_PID: str(os.getpid())}
        self.workers[i] = subprocess.Popen(self.command, env=env)
        self._started_at[i] = time.monotonic()

    def _check_workers(self) -> bool:
        """Restart workers that died; True when one keeps dying at start (give up)."""
        for i, worker in enumerate(self.workers):
            if worker is None or worker.poll() is None:
                continue
            quick = time.monotonic() - self._started_at[i] < STARTUP_SECONDS
            self._quick_failures[i] = self._quick_failures[i] + 1 if quick else 0
            print(
                f"worker {i} (pid {worker.pid}) exited with {worker.returncode}; "
                + ("giving up" if self._quick_failures[i] >= STARTUP_FAILURES else "restarting it"),
                file=sys.stderr,
                flush=True,
            )
            if self._quick_failures[i] >= STARTUP_FAILURES:
                return True
            time.sleep(RESTART_DELAY_SECONDS)
            if not self._stopping:
                self._start(i)
        return False

    def _stop_all(self) -> int:
        """SIGTERM to every worker, wait for the grace period (plus a margin), then SIGKILL."""
        running = [w for w in self.workers if w is not None and w.poll() is None]
        for worker in running:
            worker.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace + 5.0
        code = 0
        for worker in [w for w in self.workers if w is not None]:
            try:
                worker.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            if worker in running and worker.returncode != 0:
                code = 1
        return code


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def supervise_module(
    module: str,
    workers: int,
    settings: Settings,
    service: str,
    banner: str,
    shared: Mapping[str, str] | None = None,
) -> int:
    """Run `python -m module --worker` `workers` times on one port and supervise them.

        sys.exit(supervise_module("reco_svc", 2, settings, "reco", "reco: 2 workers on {host}:{port}"))

    `service` names its settings: the port SV_<SERVICE>_PORT (`settings.<service>_port`; 0
    picks a free one here, once for all) and SV_<SERVICE>_WORKERS=1 for each worker (a worker
    never supervises). Each worker also gets `shared` (values resolved once for all, e.g. the
    embedded PostgreSQL's URL) and, with a metrics port, /metrics on that port + i: each worker
    has its own counters. `banner` is printed with host and port filled in."""
    port = getattr(settings, f"{service}_port") or free_port(settings.host)
    prefix = f"SV_{service.upper()}"
    common = {**(shared or {}), f"{prefix}_PORT": str(port), f"{prefix}_WORKERS": "1"}
    metrics_port = settings.metrics_port

    def env_for(i: int) -> dict[str, str]:
        return {**common, **({"SV_METRICS_PORT": str(metrics_port + i)} if metrics_port else {})}

    print(banner.format(host=settings.host, port=port), flush=True)
    command = [sys.executable, "-m", module, "--worker"]
    return Supervisor(command, workers, env_for, settings.shutdown_grace_seconds).run()
