"""Run the whole system on one machine: PostgreSQL, the three services, the gateway.

    python -m common.launcher [--demo] [--users N --days D]

Without SV_DATABASE_URL an embedded PostgreSQL is started (data in .data/pgdata,
kept across runs). Without Kafka the three gRPC services share one process and
its in-process event bus; with SV_KAFKA_BOOTSTRAP each runs in its own process,
plus the analytics processor. The gateway runs in its own process. --demo fills
the system with simulated data through the public API. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common.database import database_url
from common.settings import REPO_ROOT, Settings


def _children(settings: Settings) -> list[tuple[str, list[str]]]:
    python = sys.executable
    if settings.kafka_bootstrap:
        services = [
            ("analytics", [python, "-m", "analytics_svc"]),
            ("analytics-processor", [python, "-m", "analytics_svc.processor"]),
            ("recommendation", [python, "-m", "reco_svc"]),
            ("feedback", [python, "-m", "feedback_svc"]),
        ]
    else:
        services = [("services", [python, "-m", "common.launcher", "services"])]
    return [*services, ("gateway", [python, "-m", "gateway"])]


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
    for name, command in _children(settings):
        processes.append((name, subprocess.Popen(command, cwd=REPO_ROOT, env=env)))
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        for target in (settings.analytics_target, settings.reco_target, settings.feedback_target):
            wait_for_health(target)
        gateway = f"http://{settings.host}:{settings.gateway_port}"
        print(
            "\nStoryverse Insights is running:\n"
            f"  dashboard and HTTP API  {gateway}/   (OpenAPI: {gateway}/api/openapi.json)\n"
            f"  analytics gRPC          {settings.analytics_target}\n"
            f"  recommendation gRPC     {settings.reco_target}\n"
            f"  feedback gRPC           {settings.feedback_target}\n"
            f"  PostgreSQL              {env['SV_DATABASE_URL']}\n"
            f"  access control          {_access_note(settings)}\n",
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
                f"grpc://{settings.analytics_target}",
                "--feedback-target",
                f"grpc://{settings.feedback_target}",
            ]
            subprocess.run(demo, cwd=REPO_ROOT, env=env, check=False)
            print(f"\nDemo data loaded. Open {gateway}/ — Ctrl-C stops everything.", flush=True)
        while not stopping and all(p.poll() is None for _, p in processes):
            time.sleep(0.5)
    finally:
        for _, process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name, process in processes:
            try:
                process.wait(timeout=settings.shutdown_grace_seconds + 5)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop in time; killing it", file=sys.stderr)
                process.kill()


def run_services() -> None:
    """All three gRPC services in this process, sharing the in-process event bus."""
    from analytics_svc.service import SPEC as ANALYTICS
    from common.grpc_server import serve
    from common.logs import configure_logging
    from feedback_svc.service import SPEC as FEEDBACK
    from reco_svc.service import SPEC as RECO

    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    specs = [
        (ANALYTICS, settings.analytics_port),
        (RECO, settings.reco_port),
        (FEEDBACK, settings.feedback_port),
    ]
    asyncio.run(serve(specs, settings))


def main() -> None:
    parser = argparse.ArgumentParser(description="Run Storyverse Insights on this machine.")
    parser.add_argument("mode", nargs="?", default="system", choices=["system", "services"])
    parser.add_argument("--demo", action="store_true", help="fill the system with simulated data")
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.mode == "services":
        run_services()
    else:
        run_system(args)


if __name__ == "__main__":
    main()
