import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
KEYS = {
    "ndcg@10",
    "precision@10",
    "recall@10",
    "map@10",
    "coverage",
    "train_seconds",
    "model",
    "users_scored",
}


def _write_interactions(path: Path, delimiter: str, with_extra_columns: bool) -> None:
    rng = np.random.default_rng(5)
    lines = []
    for user in range(40):
        for item in rng.choice(30, size=8, replace=False):
            row = [f"u{user}", f"story-{item}"]
            if with_extra_columns:
                row += [str(rng.integers(1, 6)), str(1_700_000_000 + user)]
            lines.append(delimiter.join(row))
    path.write_text("\n".join(lines) + "\n")


def _run(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "reco_svc.evaluate", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    return json.loads(lines[0])


@pytest.mark.parametrize(("delimiter", "extra"), [(",", False), ("\t", True)], ids=["csv", "tsv-4-columns"])
def test_cli_prints_one_json_line_with_the_metrics(tmp_path, delimiter, extra):
    path = tmp_path / "events.txt"
    _write_interactions(path, delimiter, extra)
    result = _run("--interactions", str(path))
    assert result.keys() >= KEYS
    assert result["n_train"] + result["n_test"] == 320
    assert 0.0 <= result["ndcg@10"] <= 1.0
    assert result["users_scored"] > 0


def test_cli_model_choice(tmp_path):
    path = tmp_path / "events.csv"
    _write_interactions(path, ",", False)
    assert _run("--interactions", str(path), "--model", "popularity")["model"] == "popularity"
