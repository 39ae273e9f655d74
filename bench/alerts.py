"""Alert latency: from a parent's report of a frightening story to the alert on WatchAlerts.

    PYTHONPATH=.:gen python -m bench.alerts [--reports 50] [--background 200]

Starts `python -m feedback_svc` (the ONNX sentiment model, in-process bus) against a fresh
database on --admin-url, opens one WatchAlerts stream (kinds=safety) and then, one at a time,
submits a frightening report about a new story while --background ordinary submissions per
second keep the analysis busy. For each report: the time from sending SubmitFeedback to the
story's alert on the stream, and to the story's row in hidden_items (hidden from
recommendations). Prints p50 / p95 / max of both; the issue asks for the alert within 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import grpc
from storyverse.feedback.v1 import feedback_service_pb2 as pb
from storyverse.feedback.v1 import feedback_service_pb2_grpc as pb_grpc

from bench.feedback import _service
from bench.ingest import _admin, _machine

FRIGHTENED = "The witch scene was terrifying, my 4 year old had nightmares all week."
ORDINARY = "My daughter loved the characters and the beautiful illustrations!"


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--reports", type=int, default=50)
    parser.add_argument("--background", type=float, default=200.0, help="ordinary submissions per second")
    asyncio.run(run(parser.parse_args()))


async def run(args: argparse.Namespace) -> None:
    name = f"sv_bench_alerts_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await _admin(args.admin_url, f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(args.admin_url)._replace(path=f"/{name}"))
    try:
        with _service(url, "feedback_svc") as (port, _pid):
            alerted, hidden = await _measure(f"127.0.0.1:{port}", url, args)
    finally:
        await _admin(args.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    beside = f"{args.background:.0f} ordinary submissions/s beside"
    print(f"machine: {_machine()}; {args.reports} reports, {beside}")
    for label, values in (("alert on WatchAlerts", alerted), ("story hidden", hidden)):
        ms = sorted(v * 1000 for v in values)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        p50 = statistics.median(ms)
        print(f"{label}: p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {ms[-1]:.0f} ms (n={len(ms)})")


def _entry(story: str, comment: str, rating: int, categories: list[str]) -> pb.FeedbackEntry:
    return pb.FeedbackEntry(
        feedback_id=f"fb-{uuid.uuid4().hex}",
        user_id=f"user-{uuid.uuid4().hex[:8]}",
        story_id=story,
        timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        rating=rating,
        comment=comment,
        categories=categories,
        child_age=5,
    )


async def _measure(target: str, url: str, args) -> tuple[list[float], list[float]]:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    async with grpc.aio.insecure_channel(target) as channel:
        stub = pb_grpc.FeedbackServiceStub(channel)
        watch = stub.WatchAlerts(pb.WatchAlertsRequest(kinds=["safety"]))
        await watch.initial_metadata()  # registered: every later alert reaches this stream
        seen: dict[str, float] = {}

        async def read_alerts() -> None:
            async for reply in watch:
                seen.setdefault(reply.alert.story_id, time.perf_counter())

        async def background() -> None:
            while True:
                story = f"story-bg-{uuid.uuid4().hex[:6]}"
                await stub.SubmitFeedback(pb.SubmitFeedbackRequest(feedback=_entry(story, ORDINARY, 5, [])))
                await asyncio.sleep(4 / args.background)  # four of these tasks

        tasks = [asyncio.create_task(read_alerts())]
        tasks += [asyncio.create_task(background()) for _ in range(4 if args.background else 0)]
        alerted, hidden = [], []
        try:
            for _ in range(args.reports):
                story = f"story-{uuid.uuid4().hex[:10]}"
                report = _entry(story, FRIGHTENED, 1, ["scary_content"])
                sent = time.perf_counter()
                await stub.SubmitFeedback(pb.SubmitFeedbackRequest(feedback=report))
                hidden_at = None
                while story not in seen or hidden_at is None:
                    if hidden_at is None and await pool.fetchval(
                        "SELECT 1 FROM hidden_items WHERE item_id = $1 AND cleared_at IS NULL", story
                    ):
                        hidden_at = time.perf_counter()
                    if time.perf_counter() - sent > 30:
                        raise TimeoutError(f"no alert or hide for {story} within 30 s")
                    await asyncio.sleep(0.005)
                alerted.append(seen[story] - sent)
                hidden.append(hidden_at - sent)
        finally:
            watch.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await pool.close()
    return alerted, hidden


if __name__ == "__main__":
    main()
