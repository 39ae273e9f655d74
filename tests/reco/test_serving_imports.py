"""The serving path stands apart from the offline tooling and its optional dependencies."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys

    BLOCKED = ("reco_svc.offline", "threadpoolctl", "torch", "transformers")

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name in BLOCKED or name.startswith(tuple(b + "." for b in BLOCKED)):
                raise ImportError(f"{name} is not for serving")
            return None

    sys.meta_path.insert(0, Block())
    """
)


def test_serving_modules_import_without_offline_tooling() -> None:
    code = BLOCKER + textwrap.dedent(
        """
        import reco_svc.service, reco_svc.server, reco_svc.bootstrap, reco_svc.model_watch, system.services
        from datetime import UTC, datetime
        from reco_svc.catalog import CatalogEntry, CatalogSnapshot
        from reco_svc.model_watch import bootstrap_model

        entries = [CatalogEntry(kind="universe", id="u1", name="U", min_age=3, max_age=12)]
        model = bootstrap_model(CatalogSnapshot.from_entries(entries), now=datetime.now(UTC))
        print(model.version, model.n_items)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT}:{ROOT / 'gen'}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["bootstrap", "1"]


def test_the_blocker_does_block() -> None:
    """The check above can fail: the offline training job is refused under the same blocker."""
    done = subprocess.run(
        [sys.executable, "-c", BLOCKER + "import reco_svc.offline.training_job"],
        cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT}:{ROOT / 'gen'}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "is not for serving" in done.stderr
