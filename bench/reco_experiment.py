"""What a running recommendation experiment adds to Recommend's latency.

    SV_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python -m bench.reco_experiment
    python -m bench.reco_experiment --rate 500 --duration 60 --users 3000

The data set, model and load are bench.reco's (a fresh database, the demo catalog, --users
synthetic children, open-loop calls at --rate). `python -m analytics_svc` and
`python -m reco_svc` run as separate processes, the engine pointed at analytics. Two runs:
1. the anchor: no experiment running (the engine makes no call to analytics);
2. a recommendation experiment running (control / treatment on the active model, the
   treatment without diversity), every child's variant fetched once beforehand, so the run
   shows the cached path plus the children whose entry expires (SV_RECO_ASSIGNMENT_TTL_SECONDS)
   during it. The engine's lookup counters (cache, analytics, failed) are printed after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import urllib.request
from pathlib import Path

import grpc
from storyverse.analytics.v1 import experiments_pb2 as xpb
from storyverse.analytics.v1 import experiments_pb2_grpc as xpb_grpc
from storyverse.recommendation.v1 import recommendation_service_pb2_grpc as pb_grpc

from bench.reco import open_loop, prepare, print_report, request_for, start, stop_and_drop, summary
from common.database import database_url
from common.settings import Settings

KEY = "bench-diversity"


def experiment() -> xpb.Experiment:
    return xpb.Experiment(
        key=KEY,
        surface="recommendations",
        variants=[
            xpb.Variant(key="control", weight=50),
            xpb.Variant(
                key="treatment", weight=50, recommendation=xpb.RecommendationOptions(diversity=False)
            ),
        ],
        primary_metric=xpb.Metric(
            name="click_through",
            kind="ratio",
            event="recommendation_clicked",
            denominator_event="recommendation_shown",
        ),
    )


def lookups(metrics_port: int) -> str:
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
    found = [line for line in text.splitlines() if line.startswith("storyverse_reco_assignment_lookups")]
    return "; ".join(found) or "none"


async def main_async(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    admin_url = database_url(settings)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-reco-exp-"))
    print(f"preparing data set in a fresh database ({args.users} users) ...", flush=True)
    url, people, dataset, _ = await prepare(admin_url, args.users, args.seed, data_dir)
    reco_port, analytics_port, metrics_port = args.reco_port, args.analytics_port, args.metrics_port
    env = {
        **os.environ,
        "SV_DATABASE_URL": url,
        "SV_DATA_DIR": str(data_dir),
        "SV_RECO_PORT": str(reco_port),
        "SV_ANALYTICS_PORT": str(analytics_port),
        "SV_ANALYTICS_TARGET": f"127.0.0.1:{analytics_port}",
        "SV_LOG_LEVEL": "WARNING",
    }
    processes = [
        start("analytics_svc", env, data_dir / "analytics.log"),
        start("reco_svc", {**env, "SV_METRICS_PORT": str(metrics_port)}, data_dir / "reco.log"),
    ]
    results = []
    try:
        from tests.conftest import wait_serving

        for port in (analytics_port, reco_port):
            await asyncio.to_thread(wait_serving, f"127.0.0.1:{port}", "", 60)
        rng = random.Random(args.seed)
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{reco_port}") as reco_channel,
            grpc.aio.insecure_channel(f"127.0.0.1:{analytics_port}") as analytics_channel,
        ):
            stub = pb_grpc.RecommendationServiceStub(reco_channel)
            requests = [request_for(people[rng.randrange(len(people))], rng) for _ in range(5000)]

            async def warm() -> None:
                queue = list(people)
                while queue:
                    batch, queue = queue[:16], queue[16:]
                    await asyncio.gather(*(stub.Recommend(request_for(p, rng)) for p in batch))

            async def send(n: int) -> None:
                await stub.Recommend(requests[n % len(requests)], timeout=5)

            await warm()
            print(f"no experiment: {args.rate}/s for {args.duration} s ...", flush=True)
            run = await open_loop(send, args.rate, args.duration, args.max_in_flight)
            results.append(summary("Recommend, no experiment (anchor)", *run, args.duration))

            admin = xpb_grpc.ExperimentServiceStub(analytics_channel)
            await admin.CreateExperiment(xpb.CreateExperimentRequest(experiment=experiment()))
            await admin.StartExperiment(xpb.StartExperimentRequest(key=KEY))
            for _ in range(600):  # the engine's poll: SV_RECO_EXPERIMENT_POLL_SECONDS
                reply = await stub.Recommend(request_for(people[0], rng))
                if reply.lists[0].experiment_key == KEY:
                    break
                await asyncio.sleep(0.1)
            else:
                raise SystemExit("the engine did not apply the experiment")
            await warm()
            before = lookups(metrics_port)
            print(f"experiment running: {args.rate}/s for {args.duration} s ...", flush=True)
            run = await open_loop(send, args.rate, args.duration, args.max_in_flight)
            results.append(summary("Recommend, experiment running", *run, args.duration))
            results.append(f"assignment lookups before the run: {before}")
            results.append(f"assignment lookups after the run: {lookups(metrics_port)}")
    finally:
        await stop_and_drop(processes, admin_url, url)
    print_report("bench.reco_experiment", dataset, results)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=500.0, help="calls per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load per run")
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-in-flight", type=int, default=256)
    parser.add_argument("--reco-port", type=int, default=50162)
    parser.add_argument("--analytics-port", type=int, default=50161)
    parser.add_argument("--metrics-port", type=int, default=9564)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
