"""Gateway tests: this folder on sys.path (for gateway_helpers).

The gateway itself (`gateway_url`, `gateway_settings`) and the services come from
tests/conftest.py: the real gateway app on loopback in front of the real grpc.aio
services; tests talk to it over HTTP.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
