"""Run the whole system on one machine: PostgreSQL, the three services, the gateway.

    python -m system.launcher [--demo] [--users N --days D]
    python -m system.launcher --kafka-mock --replicas 2     # the cluster profile on one machine

Without SV_DATABASE_URL an embedded PostgreSQL is started (data in .data/pgdata,
kept across runs). Without Kafka the three gRPC services share one process and
its in-process event bus (system/services.py); with SV_KAFKA_BOOTSTRAP (whose topics are created first,
common/bus/topics.py) or --kafka-mock (librdkafka's mock cluster in a helper process,
common/kafka_mock.py) each runs in its own process, plus the analytics processor, each
`--replicas` times: replica i listens on the service's port + i * --port-step, and the
gateway spreads its calls over the replicas. SV_REDIS_URL, when set, is shared by all.
The gateway runs in its own process. --demo fills the system with simulated data through
the public API. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common.database import database_url
from common.kafka_mock import PREFIX as KAFKA_MOCK_PREFIX
from common.settings import REPO_ROOT, Settings

# Each service's module and the setting of its port.
SERVICES = (
    ("analytics", "analytics_svc", "analytics_port"),
    ("analytics-processor", "analytics_svc.ingestion.processor", None),
    ("recommendation", "reco_svc", "reco_port"),
    ("feedback", "feedback_svc", "feedback_port"),
)
# The recommendation model's training: the Kubernetes CronJob's command, and its schedule here.
TRAINING_JOB = "reco_svc.train"
TRAINING_SCHEDULE = "reco_svc.schedule"
PORT_TARGETS = {
    "analytics_port": "analytics_target",
    "reco_port": "reco_target",
    "feedback_port": "feedback_target",
}


@dataclass(frozen=True)
class Child:
    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)  # on top of the launcher's environment


def replica_targets(settings: Settings, replicas: int, step: int) -> dict[str, str]:
    """SV_*_TARGET for the gateway: every replica's address, spread by the client (round robin)."""
    targets = {}
    for port_name, target_name in PORT_TARGETS.items():
        base = getattr(settings, port_name)
        addresses = [f"{settings.host}:{base + i * step}" for i in range(replicas)]
        targets[target_name] = addresses[0] if replicas == 1 else "ipv4:" + ",".join(addresses)
    return targets


def _children(settings: Settings, replicas: int = 1, step: int = 100) -> list[Child]:
    python = sys.executable
    if not settings.kafka_bootstrap:
        services = [Child("services", [python, "-m", "system.services"])]
        return [*services, Child("gateway", [python, "-m", "gateway"])]
    children = []
    metrics = settings.metrics_port
    for i in range(replicas):
        for name, module, port_name in SERVICES:
            env = (
                {f"SV_{port_name.upper()}": str(getattr(settings, port_name) + i * step)} if port_name else {}
            )
            if metrics:  # one /metrics port per process
                env["SV_METRICS_PORT"] = str(metrics + len(children))
            children.append(Child(f"{name}-{i}" if replicas > 1 else name, [python, "-m", module], env))
    gateway_env = {f"SV_{k.upper()}": v for k, v in replica_targets(settings, replicas, step).items()}
    return [*children, Child("gateway", [python, "-m", "gateway"], gateway_env)]


def start_kafka_mock(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """librdkafka's mock cluster in a helper process (common/kafka_mock.py): (process, bootstrap)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "common.kafka_mock"],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()  # type: ignore[union-attr]
    if not line.startswith(KAFKA_MOCK_PREFIX):
        process.kill()
        raise SystemExit(f"the Kafka mock cluster did not start: {line!r}")
    return process, line.strip().removeprefix(KAFKA_MOCK_PREFIX)


def wait_for_health(target: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    raise SystemExit(f"{target} did not become healthy within {timeout:.0f} s")


def _access_note(settings: Settings) -> str:
    if settings.auth == "required":
        return "API keys required (python -m common.apikeys create --scopes ingest,read --name me)"
    return "open, for this laptop (SV_AUTH=required enforces API keys; see docs/security.md)"


def run_system(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    env = {**os.environ, "SV_DATABASE_URL": database_url(settings)}
    env.setdefault("SV_LOG_LEVEL", "WARNING")  # one JSON line per RPC is for production, not a terminal
    processes = []
    if args.kafka_mock:
        mock, bootstrap = start_kafka_mock(env)
        processes.append(("kafka-mock", mock))
        env["SV_KAFKA_BOOTSTRAP"] = bootstrap
        settings = replace(settings, kafka_bootstrap=bootstrap)
    elif settings.kafka_bootstrap:
        from common.bus.topics import ensure_topics

        created = ensure_topics(settings)
        print(f"Kafka topics: {len(created)} created, the others existed", flush=True)
    replicas = args.replicas if settings.kafka_bootstrap else 1
    children = _children(settings, replicas, args.port_step)
    for child in children:
        processes.append(
            (child.name, subprocess.Popen(child.command, cwd=REPO_ROOT, env={**env, **child.env}))
        )
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        if settings.kafka_bootstrap:
            settings = replace(settings, **replica_targets(settings, replicas, args.port_step))
        targets = (settings.analytics_target, settings.reco_target, settings.feedback_target)
        for target in targets:
            for address in target.removeprefix("ipv4:").split(","):
                wait_for_health(address)
        gateway = f"http://{settings.host}:{settings.gateway_port}"
        print(
            "\nStoryverse Insights is running:\n"
            f"  dashboard and HTTP API  {gateway}/   (OpenAPI: {gateway}/api/openapi.json)\n"
            f"  analytics gRPC          {settings.analytics_target}\n"
            f"  recommendation gRPC     {settings.reco_target}\n"
            f"  feedback gRPC           {settings.feedback_target}\n"
            f"  PostgreSQL              {env['SV_DATABASE_URL']}\n"
            f"  access control          {_access_note(settings)}\n"
            + (f"  Kafka                   {settings.kafka_bootstrap}\n" if settings.kafka_bootstrap else "")
            + (f"  Redis                   {settings.redis_url}\n" if settings.redis_url else ""),
            flush=True,
        )
        if args.demo:
            demo = [
                sys.executable,
                "-m",
                "simulator",
                "--users",
                str(args.users),
                "--days",
                str(args.days),
                "--seed",
                str(args.seed),
                "--target",
                f"grpc://{settings.analytics_target.removeprefix('ipv4:').split(',')[0]}",
                "--feedback-target",
                f"grpc://{settings.feedback_target.removeprefix('ipv4:').split(',')[0]}",
            ]
            subprocess.run(demo, cwd=REPO_ROOT, env=env, check=False)
            # The first recommendation model, from the demo's data: the CronJob's job, once.
            print("\nTraining the recommendation model on the demo data...", flush=True)
            subprocess.run([sys.executable, "-m", TRAINING_JOB], cwd=REPO_ROOT, env=env, check=False)
            print(f"\nDemo data loaded. Open {gateway}/ — Ctrl-C stops everything.", flush=True)
        if settings.reco_train_every_hours > 0:
            # Then on schedule (reco_svc/schedule.py), as the CronJob does in Kubernetes; after
            # the demo's training, so that it does not train on half-loaded data meanwhile.
            trainer = subprocess.Popen([sys.executable, "-m", TRAINING_SCHEDULE], cwd=REPO_ROOT, env=env)
            processes.append(("training-schedule", trainer))
        while not stopping and all(p.poll() is None for _, p in processes):
            time.sleep(0.5)
    finally:
        # The mock cluster goes last: the services flush to it while they stop.
        for _, process in processes[::-1]:
            if process.poll() is None and process.args[-1] != "common.kafka_mock":
                process.send_signal(signal.SIGTERM)
        for name, process in processes[::-1]:
            if process.args[-1] == "common.kafka_mock" and process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=settings.shutdown_grace_seconds + 5)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop in time; killing it", file=sys.stderr)
                process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run Storyverse Insights on this machine.")
    parser.add_argument("--demo", action="store_true", help="fill the system with simulated data")
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--kafka-mock", action="store_true", help="Kafka mode on librdkafka's mock cluster (helper process)"
    )
    parser.add_argument("--replicas", type=int, default=1, help="processes per service in Kafka mode")
    parser.add_argument("--port-step", type=int, default=100, help="port distance between replicas")
    run_system(parser.parse_args())


if __name__ == "__main__":
    main()
