"""Comparing model exports without dev (feedback_svc.offline.compare_exports) with the shipped model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from feedback_svc.offline.compare_exports import compare
from feedback_svc.offline.labelled_data import validation_split
from feedback_svc.sentiment.model import DEFAULT_MODEL_DIR

PHRASES = [
    ("a warm , funny and moving story", 1),
    ("dull , tedious and far too long", 0),
    ("the kids adored every page of it", 1),
    ("a confusing mess with a pointless ending", 0),
    ("charming characters and a lovely moral", 1),
    ("boring", 0),
    ("wonderful", 1),
    ("the worst bedtime story we have read in a long , long time", 0),
]


def test_the_split_is_seeded_disjoint_and_complete() -> None:
    val, train = validation_split(50, 10, np.random.default_rng(13))
    again, _ = validation_split(50, 10, np.random.default_rng(13))
    assert list(val) == list(again)
    assert len(val) == 10 and len(train) == 40
    assert sorted([*val, *train]) == list(range(50))


def test_a_model_agrees_with_itself_and_is_scored_on_the_split(tmp_path: Path) -> None:
    (tmp_path / "train.tsv").write_text(
        "sentence\tlabel\n" + "".join(f"{text}\t{label}\n" for text, label in PHRASES)
    )
    (line,) = compare(tmp_path, DEFAULT_MODEL_DIR, [DEFAULT_MODEL_DIR], val_size=4, longest=3)
    assert line["agrees_with_reference"] == 1.0
    assert line["mean_abs_difference"] == 0.0
    assert line["n_validation"] == 4 and line["n_longest"] == 3
    assert line["validation_accuracy"] >= 0.75  # four clear phrases


def test_the_command_prints_one_json_line_per_candidate(tmp_path: Path) -> None:
    (tmp_path / "train.tsv").write_text("".join(f"{text}\t{label}\n" for text, label in PHRASES))
    folder = str(DEFAULT_MODEL_DIR)
    output = subprocess.run(
        [sys.executable, "-m", "feedback_svc.offline.compare_exports", "--data", str(tmp_path),
         "--reference", folder, folder, folder, "--val-size", "4", "--longest", "2"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    lines = [json.loads(text) for text in output.splitlines()]
    assert len(lines) == 2 and all(line["agrees_with_reference"] == 1.0 for line in lines)
