"""The analytics processor answers Kubernetes' gRPC probes (SV_PROCESSOR_HEALTH_PORT)."""

from __future__ import annotations

import signal
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common.grpc_server import LIVENESS
from tests.conftest import free_port, service_env, spawn, wait_serving
from tests.kafka_mock import MockKafkaCluster


def test_the_processor_serves_readiness_and_liveness_and_stops_on_sigterm(settings, tmp_path):
    cluster = MockKafkaCluster(brokers=1)
    port = free_port()
    env = service_env(
        settings,
        kafka_bootstrap=cluster.bootstrap,
        kafka_topic_prefix=f"health{int(time.time() * 1000)}.",
        processor_health_port=port,
    )
    processor = spawn("analytics_svc.ingestion.processor", env, tmp_path / "processor.log")
    try:
        wait_serving(f"127.0.0.1:{port}", timeout=60)  # "": PostgreSQL answers
        wait_serving(f"127.0.0.1:{port}", LIVENESS)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel, pytest.raises(grpc.RpcError) as unknown:
            request = health_pb2.HealthCheckRequest(service="storyverse.nothing")
            health_pb2_grpc.HealthStub(channel).Check(request, timeout=2)
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
        processor.send_signal(signal.SIGTERM)
        assert processor.wait(timeout=30) == 0
    finally:
        if processor.poll() is None:
            processor.kill()
        cluster.close()
