"""python -m simulator --users 200 --days 30 --seed 7 --target grpc://127.0.0.1:50051 ..."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date
from pathlib import Path

from simulator.behaviour import Experiment, SimConfig, Simulation
from simulator.drive import (
    Summary,
    print_progress,
    send_events_grpc,
    send_events_http,
    send_feedback_grpc,
    send_feedback_http,
)


def experiment(text: str) -> Experiment:
    """KEY:METRIC:EFFECT[:SHARE], e.g. bigger_buttons:story_completed:0.10"""
    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise argparse.ArgumentTypeError("expected KEY:METRIC:EFFECT[:SHARE]")
    try:
        share = float(parts[3]) if len(parts) == 4 else 0.5
        return Experiment(parts[0], parts[1], float(parts[2]), share)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start-date", type=date.fromisoformat, help="first day (default: days-1 days ago)")
    parser.add_argument("--target", help="analytics gRPC address, e.g. grpc://127.0.0.1:50051")
    parser.add_argument("--feedback-target", help="feedback gRPC address, e.g. grpc://127.0.0.1:50053")
    parser.add_argument(
        "--http", help="HTTP gateway base URL, e.g. http://127.0.0.1:8080 (events and feedback)"
    )
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--experiment", type=experiment, action="append", default=[], metavar="KEY:METRIC:EFFECT"
    )
    parser.add_argument(
        "--dump", type=Path, help="also write events.jsonl and feedback.jsonl into this folder"
    )
    args = parser.parse_args(argv)
    if not (args.target or args.http or args.dump):
        parser.error("give --target, --http or --dump")
    if args.target and args.http:
        parser.error("give either --target or --http for events")
    return args


async def main(args: argparse.Namespace) -> Summary:
    sim = Simulation(
        args.users,
        args.days,
        args.seed,
        args.start_date,
        config=SimConfig(experiments=tuple(args.experiment)),
    )
    feedback: list[dict] = []
    dump = _Dump(args.dump) if args.dump else None

    def events():
        for batch in sim.run():
            feedback.extend(batch.feedback)
            if dump:
                dump.write(batch.events, batch.feedback)
            yield from batch.events

    print(f"simulating {args.users} users over {args.days} days from {sim.start_date} (seed {args.seed})")
    progress = print_progress()
    if args.target:
        summary = await send_events_grpc(args.target, events(), args.batch_size, args.concurrency, progress)
    elif args.http:
        summary = await send_events_http(args.http, events(), args.batch_size, args.concurrency, progress)
    else:
        summary = Summary()
        summary.notes.append(f"{sum(1 for _ in events())} events generated, not sent (no target)")
    if args.feedback_target:
        await send_feedback_grpc(args.feedback_target, feedback, summary)
    elif args.http:
        await send_feedback_http(args.http, feedback, summary)
    else:
        summary.notes.append(f"{len(feedback)} feedback entries generated, not sent (no feedback target)")
    if dump:
        dump.close()
    return summary


class _Dump:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.events = (folder / "events.jsonl").open("w", encoding="utf-8")
        self.feedback = (folder / "feedback.jsonl").open("w", encoding="utf-8")

    def write(self, events: list[dict], feedback: list[dict]) -> None:
        self.events.writelines(json.dumps(e) + "\n" for e in events)
        self.feedback.writelines(json.dumps(f) + "\n" for f in feedback)

    def close(self) -> None:
        self.events.close()
        self.feedback.close()


def run(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    summary = asyncio.run(main(args))
    if args.target or args.http:
        print(summary.line())
    if summary.feedback_sent or summary.feedback_skipped:
        print(
            f"feedback sent {summary.feedback_sent}, created {summary.feedback_created}, "
            f"skipped {summary.feedback_skipped}"
        )
    for note in summary.notes:
        print(f"note: {note}")
    for rejection in summary.rejections:
        print(f"rejected: {rejection}", file=sys.stderr)
    return 1 if summary.rejected else 0


if __name__ == "__main__":
    sys.exit(run())
