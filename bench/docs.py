"""Writes benchmark sections into docs/benchmarks.md between markers, so reruns refresh them
and leave the hand-written text around them alone."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from bench.load import PhaseResult

START = "<!-- bench:ingest:start -->"
END = "<!-- bench:ingest:end -->"


def replace_section(text: str, start: str, end: str, section: str) -> str | None:
    """`text` with everything from `start` to `end` replaced by `section` (which carries both
    markers), or None when the text does not hold both."""
    if start not in text or end not in text:
        return None
    head, rest = text.split(start, 1)
    return head + section + rest.split(end, 1)[1]


def insert_section(text: str, at: int, section: str) -> str:
    """`text` with `section` as a paragraph of its own at offset `at`."""
    head, tail = text[:at].rstrip("\n"), text[at:].lstrip("\n")
    return head + "\n\n" + section + ("\n\n" + tail if tail else "\n")


def per_run_shares(runs: list[PhaseResult], anchor_runs: list[float]) -> list[str]:
    """Each run against the anchor measured just before it, in the same repeat: steadier than
    median against median when the shared machine's speed drifts during the benchmark."""
    return [f"{run.events_per_second / a:.0%}" for run, a in zip(runs, anchor_runs, strict=True)]


def write_section(
    path: Path,
    machine: str,
    command: str,
    data_set: str,
    anchor_runs: list[float],
    medians: list[PhaseResult],
    results: dict[str, list[PhaseResult]],
    args: argparse.Namespace,
    gateway: str | None = None,
) -> None:
    anchor = sorted(anchor_runs)[len(anchor_runs) // 2] if anchor_runs else 0.0
    lines = [
        START,
        "## Ingestion (`bench/ingest.py`)",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine} (shared with other users: medians of {args.repeats} interleaved runs)",
        f"- Data set: {data_set}",
        f"- Service: `python -m analytics_svc` with {args.workers} worker process(es) on one port"
        " (SV_ANALYTICS_WORKERS), PostgreSQL on the same machine, synchronous_commit on"
        " (acknowledged = committed)",
        f"- Command: `{command}`",
        f"- Gateway: {gateway or 'not present: HTTP rows skipped'}",
        "",
        "| Path | Batch | Callers | Events/s: median (runs) "
        "| vs COPY: medians (each run vs its repeat's anchor) | p50 ack | p99 ack "
        "| CPU µs/event: service / postgres / bench (/ gateway) | cores busy: machine |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    if anchor:
        runs = ", ".join(f"{v:,.0f}" for v in anchor_runs)
        lines.append(
            f"| raw asyncpg COPY (anchor), chunks of 5,000 | – | 1 | {anchor:,.0f} ({runs}) | 100% | | | | |"
        )
    for r in medians:
        share = f"{r.events_per_second / anchor:.0%}" if anchor else "–"
        if anchor and len(anchor_runs) == len(results[r.name]) > 1:
            share += f" (runs: {' / '.join(per_run_shares(results[r.name], anchor_runs))})"
        runs = ", ".join(f"{x.events_per_second:,.0f}" for x in results[r.name])
        groups = (
            ("service", "postgres", "bench", "gateway")
            if r.name.startswith("gateway")
            else ("service", "postgres", "bench")
        )
        cpu = " / ".join(f"{r.cpu_per_event(k):.1f}" for k in groups)
        lines.append(
            f"| {r.name.split('-')[0]} | {r.batch} | {r.concurrency} | {r.events_per_second:,.0f} ({runs}) "
            f"| {share} | {r.percentile(0.5) * 1000:.1f} ms | {r.percentile(0.99) * 1000:.1f} ms "
            f"| {cpu} | {r.cpu.get('machine', 0):.2f} |"
        )
    lines.append(END)
    section = "\n".join(lines)
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    replaced = replace_section(text, START, END, section)
    text = replaced if replaced is not None else insert_section(text, len(text), section)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
