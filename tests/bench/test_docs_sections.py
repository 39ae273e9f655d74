"""The benchmarks' --write-docs refresh their own sections of docs/benchmarks.md and leave the
hand-written text around them as it is (the file's layout is what these writers edit)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from bench import docs
from bench.feedback import HEADING, _write_docs
from bench.load import PhaseResult
from common.settings import REPO_ROOT

BENCHMARKS = REPO_ROOT / "docs" / "benchmarks.md"


def _surge(rate: float) -> dict:
    return {
        "rate": rate, "duration": 60.0, "achieved": rate * 0.99, "p50": 0.031, "p99": 0.217,
        "errors": 0, "error_kinds": {}, "lost": 0, "backlog": 1234, "lag_p50": 71.8,
        "lag_p99": 96.9, "lag_max": 97.3, "analysed": 36_000, "drain": 97.0, "drain_rate": 553.0,
        "left": 0, "intake_us": 959.0, "analysis_us": 2276.0, "pg_us": 1194.0, "bench_us": 339.0,
        "machine": 1.85,
    }  # fmt: skip


def _surge_args(rate: float) -> argparse.Namespace:
    return argparse.Namespace(rate=rate, duration=60.0, channels=8, drain_timeout=240.0)


def _phase(name: str, batch: int, events: int) -> PhaseResult:
    return PhaseResult(
        name=name, batch=batch, concurrency=16, seconds=8.0, calls=events // batch, events=events,
        latencies=[0.01, 0.02, 0.03], cpu={"service": 0.9, "postgres": 0.6, "bench": 0.1, "machine": 1.8},
    )  # fmt: skip


def _without(text: str, start: str, end: str) -> str:
    """The text with the part between two markers cut out."""
    head, rest = text.split(start, 1)
    return head + rest.split(end, 1)[1]


def test_the_file_holds_each_writers_markers_once_and_in_order() -> None:
    text = BENCHMARKS.read_text()
    assert text.count(docs.START) == text.count(docs.END) == 1
    assert text.index(docs.START) < text.index(docs.END)
    assert HEADING in text
    keys = re.findall(r"<!-- bench:feedback:(\S+):start -->", text)
    assert keys, "no feedback surge run in docs/benchmarks.md"
    for key in keys:
        start, end = f"<!-- bench:feedback:{key}:start -->", f"<!-- bench:feedback:{key}:end -->"
        assert text.count(start) == text.count(end) == 1
        assert text.index(HEADING) < text.index(start) < text.index(end)


def test_ingest_rewrites_its_section_only(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.md"
    before = BENCHMARKS.read_text()
    path.write_text(before)
    anchors = [50_000.0, 52_000.0]
    runs = {"grpc-100": [_phase("grpc-100", 100, 280_000), _phase("grpc-100", 100, 300_000)]}
    args = argparse.Namespace(repeats=2, workers=2)
    for _ in range(2):  # a rerun replaces what the first run wrote
        docs.write_section(
            path, machine="2 cores (nproc), Test CPU", command="python -m bench.ingest --write-docs",
            data_set="the test set", anchor_runs=anchors, medians=[runs["grpc-100"][1]],
            results=runs, args=args,
        )  # fmt: skip
    after = path.read_text()
    assert _without(after, docs.START, docs.END) == _without(before, docs.START, docs.END)
    section = after.split(docs.START, 1)[1].split(docs.END, 1)[0]
    command = "`python -m bench.ingest --write-docs`"
    assert all(part in section for part in ("- Date: ", "2 cores (nproc), Test CPU", "the test set", command))
    assert "| grpc | 100 | 16 | 37,500 (35,000, 37,500) | 72% (runs: 70% / 72%) |" in section
    assert after.count(docs.START) == 1


@pytest.mark.parametrize("rate", [1000.0, 300.0])
def test_feedback_refreshes_its_rate_or_adds_it_to_the_surge_section(tmp_path: Path, rate: float) -> None:
    path = tmp_path / "benchmarks.md"
    before = BENCHMARKS.read_text()
    path.write_text(before)
    key = f"{rate:.0f}x60"
    start, end = f"<!-- bench:feedback:{key}:start -->", f"<!-- bench:feedback:{key}:end -->"
    existed = start in before
    command = f"python -m bench.feedback --rate {rate:.0f}"
    for _ in range(2):
        _write_docs(path, _surge(rate), command, "the test set", _surge_args(rate))
    after = path.read_text()
    assert after.count(start) == after.count(end) == 1
    section = after.split(start, 1)[1].split(end, 1)[0]
    assert "the test set" in section and f"`{command}`" in section
    assert f"| {rate * 0.99:,.0f}/s | 31 ms | 217 ms |" in section
    if existed:
        assert _without(after, start, end) == _without(before, start, end)
    else:
        # the new run sits inside the surge section: after its heading, before the next one
        surge = after.split(HEADING, 1)[1].split("\n## ", 1)[0]
        assert start in surge and end in surge
        assert re.sub(r"\n{3,}", "\n\n", _without(after, start, end)) == before


def test_the_figures_and_the_how_to_stay_short() -> None:
    """Current figures only (history lives in git and CHANGELOG.md): the limits issue 17 set."""
    assert len(BENCHMARKS.read_text().splitlines()) <= 300
    assert len((REPO_ROOT / "bench" / "README.md").read_text().splitlines()) <= 200
