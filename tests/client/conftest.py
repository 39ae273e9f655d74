"""Client library tests: storyverse_client from its own folder (as installed from it), against
the real services and gateway of tests/conftest.py."""

from __future__ import annotations

import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "storyverse_client" / "src")
if SRC not in sys.path:
    sys.path.insert(0, SRC)
