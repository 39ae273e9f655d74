"""Helpers for the gateway tests: extra gateways with their own settings, and the contract's bindings."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp.test_utils import TestServer

from common.settings import Settings
from tests.conftest import gateway_server


async def start_gateway(settings: Settings) -> TestServer:
    server = gateway_server(settings)
    await server.start_server()
    return server


def contract_binding_count() -> int:
    """HTTP bindings written in proto/, counted from the .proto text itself (independent of the router)."""
    proto = Path(__file__).resolve().parents[2] / "proto"
    pattern = re.compile(r'(?:^|[{\s])(?:get|post|put|patch|delete):\s*"', re.MULTILINE)
    return sum(len(pattern.findall(p.read_text())) for p in proto.rglob("*.proto"))
