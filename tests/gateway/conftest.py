"""Gateway tests: this folder on sys.path (for gateway_helpers), and the targets of the real services.

The gateway itself (`gateway_url`) and the services come from tests/conftest.py: the real
gateway app on loopback in front of the real grpc.aio services; tests talk to it over HTTP.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)


@pytest.fixture
def gateway_settings(settings, analytics, reco, feedback):
    """Settings of a gateway in front of the session's services, for tests that start their own."""
    return replace(
        settings,
        analytics_target=f"127.0.0.1:{analytics.port}",
        reco_target=f"127.0.0.1:{reco.port}",
        feedback_target=f"127.0.0.1:{feedback.port}",
    )
