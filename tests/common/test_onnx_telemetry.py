"""onnxruntime's telemetry stays off in our processes: loading and running the engine's and the
feedback service's models leaves nothing in ~/.cache/Microsoft (where onnxruntime queues device
and process records for Microsoft), and no module imports onnxruntime but common/onnx_runtime.py."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from common.settings import REPO_ROOT

TELEMETRY_DIR = Path(".cache") / "Microsoft"
# onnxruntime writes no telemetry when one of these says it runs in CI, and writes it under
# XDG_CACHE_HOME when set: the subprocesses run without them, so the premise holds anywhere.
CI_MARKERS = {"CI", "TF_BUILD", "GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "TRAVIS", "JENKINS_URL"}
CI_MARKERS |= {"CODEBUILD_BUILD_ID", "BUILDKITE", "TEAMCITY_VERSION", "APPVEYOR", "BITBUCKET_BUILD_NUMBER"}

LOAD_OUR_MODELS = """
import numpy as np
from feedback_svc.sentiment.model import SentimentModel
from reco_svc.artifact import session_from
from reco_svc.onnx_graph import build_topk_graph

print(SentimentModel(threads=1).score_batch(["What a lovely story"]))
session = session_from(build_topk_graph(np.eye(4, dtype=np.float32)).SerializeToString())
print(len(session.get_inputs()))
"""


def _run(code: str, home: Path) -> None:
    unset = CI_MARKERS | {"XDG_CACHE_HOME", "ORT_DISABLE_TELEMETRY"}
    env = {name: value for name, value in os.environ.items() if name not in unset}
    env |= {"HOME": str(home), "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'gen'}"}
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-2000:]


def test_loading_our_models_writes_no_telemetry(tmp_path):
    bare, ours = tmp_path / "bare", tmp_path / "ours"
    bare.mkdir(), ours.mkdir()
    _run("import onnxruntime", bare)  # the premise: onnxruntime alone does write it
    assert (bare / TELEMETRY_DIR).exists()
    _run(LOAD_OUR_MODELS, ours)
    assert not (ours / TELEMETRY_DIR).exists(), sorted(str(p) for p in (ours / TELEMETRY_DIR).rglob("*"))


def test_only_common_onnx_runtime_imports_onnxruntime():
    direct = []
    for path in REPO_ROOT.rglob("*.py"):
        relative = path.relative_to(REPO_ROOT)
        if relative.parts[0] in {".venv", "gen", "build"} or relative == Path("common/onnx_runtime.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name == "onnxruntime" or name.startswith("onnxruntime.") for name in names):
                direct.append(f"{relative}:{node.lineno}")
    assert direct == [], direct
