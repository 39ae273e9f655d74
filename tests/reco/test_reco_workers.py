"""`python -m reco_svc` with SV_RECO_WORKERS=2: two engine processes on one port, connections
spread over both (each counts its calls on its own /metrics), every answer a real list, and
SIGTERM stops the supervisor and both workers cleanly."""

from __future__ import annotations

import signal
import time
import urllib.request
import uuid
from dataclasses import replace
from pathlib import Path

import grpc
from storyverse.recommendation.v1 import recommendation_service_pb2 as pb
from storyverse.recommendation.v1 import recommendation_service_pb2_grpc as pb_grpc

from tests.conftest import fresh_database, service_env, spawn, two_free_ports, wait_serving

CALLS = 30


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def recommend_calls(metrics_port: int) -> float:
    """Recommend calls this worker served, from its rpc.server.duration histogram."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("rpc_server_duration_seconds_count") and '/Recommend"' in line
    )


def test_two_workers_share_the_port_serve_lists_and_stop_together(settings, tmp_path):
    port, metrics = two_free_ports(), two_free_ports()
    with fresh_database(settings, "recoworkers") as url:
        env = service_env(
            replace(settings, database_url=url),
            reco_port=port,
            reco_workers=2,
            metrics_port=metrics,
            host="127.0.0.1",
            data_dir=tmp_path / "data",
            shutdown_grace_seconds=5,
        )
        process = spawn("reco_svc", env, tmp_path / "reco.log")
        try:
            wait_serving(f"127.0.0.1:{port}", timeout=90)
            workers = children(process.pid)
            assert len(workers) == 2
            for _ in range(CALLS):
                # A channel of its own per call: the kernel spreads connections over the workers.
                with grpc.insecure_channel(
                    f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]
                ) as ch:
                    reply = pb_grpc.RecommendationServiceStub(ch).Recommend(
                        pb.RecommendRequest(
                            user_id=f"user-{uuid.uuid4().hex[:8]}",
                            context=pb.RecommendationContext(age_group="6-8"),
                            recommendation_types=["universe"],
                            limit=3,
                        ),
                        timeout=30,
                    )
                assert [len(x.items) for x in reply.lists] == [3], reply
            served = [recommend_calls(metrics + i) for i in range(2)]
            assert sum(served) == CALLS and all(n > 0 for n in served), served
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
            deadline = time.monotonic() + 5
            while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            log = (tmp_path / "reco.log").read_text()
            assert "recommendation: 2 workers on 127.0.0.1:" in log, log
            assert "Traceback" not in log, log
