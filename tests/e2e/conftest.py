"""End-to-end tests run against the in-process services (default) or the cluster profile.

    SV_TEST_PROFILE=cluster pytest tests/e2e

cluster: `python -m system.launcher --kafka-mock --replicas 2` against the test database
(the mock Kafka cluster in a helper process, two replicas of each service and of the
analytics processor, the gateway spreading calls over them; Redis when it answers locally).
Writes then become visible asynchronously (Kafka → processor → PostgreSQL): tests wait
for them with `eventually`.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.settings import REPO_ROOT, Settings
from tests.common.redis_fixtures import local_redis_url

CLUSTER = os.environ.get("SV_TEST_PROFILE") == "cluster"
STEP = 100


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _base_ports() -> dict[str, int]:
    """Ports for the three services, their second replicas (+STEP) and the gateway, all free."""
    for _ in range(50):
        base = random.randrange(20000, 40000, 10)
        ports = {"analytics": base, "reco": base + 1, "feedback": base + 2, "gateway": base + 3}
        wanted = [*ports.values(), *(p + STEP for p in (base, base + 1, base + 2))]
        if all(_free(p) for p in wanted):
            return ports
    raise RuntimeError("no free ports for the cluster profile")


def _start_fleet(settings: Settings, logs: Path) -> Iterator[str]:
    ports = _base_ports()
    env = {
        **os.environ,
        "SV_DATABASE_URL": settings.database_url or "",
        "SV_DATA_DIR": str(settings.data_dir),
        "SV_KAFKA_TOPIC_PREFIX": f"e2e{int(time.time())}.",
        "SV_KAFKA_PARTITIONS": "4",
        "SV_LOG_LEVEL": "WARNING",
        **{f"SV_{name.upper()}_PORT": str(port) for name, port in ports.items()},
    }
    env.pop("SV_KAFKA_BOOTSTRAP", None)
    if redis := local_redis_url():
        env["SV_REDIS_URL"] = redis
    log = (logs / "launcher.log").open("wb")
    command = ["system.launcher", "--kafka-mock", "--replicas", "2", "--port-step", str(STEP)]
    launcher = subprocess.Popen(
        [sys.executable, "-m", *command],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{ports['gateway']}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert launcher.poll() is None, (logs / "launcher.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the cluster profile did not become ready"
            time.sleep(0.5)
        yield url
    finally:
        launcher.send_signal(signal.SIGTERM)
        try:
            launcher.wait(60)
        except subprocess.TimeoutExpired:
            launcher.kill()
            launcher.wait()
        if "SV_REDIS_URL" in env:  # the shared Redis keeps no features of the seed's user
            from tests.cluster.fleet import forget_reco_features
            from tests.events import SEED_EVENT

            for user in (SEED_EVENT["user_id"], "u1"):  # "u1": the recommendations route test
                asyncio.run(forget_reco_features(env["SV_REDIS_URL"], user))


if CLUSTER:

    @pytest.fixture(scope="session")
    def gateway_url(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
        yield from _start_fleet(settings, tmp_path_factory.mktemp("cluster"))
