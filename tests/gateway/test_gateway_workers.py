"""`python -m gateway` with SV_GATEWAY_WORKERS=2: two workers on one port, connections spread
over both, /metrics per worker, SIGTERM lets an in-flight request finish and stops them all."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp

from tests.conftest import two_free_ports
from tests.events import event_dict

ROOT = Path(__file__).resolve().parents[2]


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def requests_counted(metrics_text: str) -> float:
    """Requests this worker served, from its http.server.request.duration histogram."""
    total = 0.0
    for line in metrics_text.splitlines():
        if line.startswith("http_server_request_duration_seconds_count") and "/api/" in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_two_workers_share_the_port_and_stop_together(gateway_settings):
    port, metrics = two_free_ports(), two_free_ports()
    # The analytics backend here accepts connections and never answers.
    silent = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    env = os.environ | {
        "SV_GATEWAY_PORT": str(port),
        "SV_GATEWAY_WORKERS": "2",
        "SV_METRICS_PORT": str(metrics),
        "SV_HOST": "127.0.0.1",
        "SV_ANALYTICS_TARGET": f"127.0.0.1:{silent.sockets[0].getsockname()[1]}",
        "SV_GATEWAY_DEADLINE_SECONDS": "1.5",
        "SV_RECO_TARGET": gateway_settings.reco_target,
        "SV_FEEDBACK_TARGET": gateway_settings.feedback_target,
        "SV_SHUTDOWN_GRACE_SECONDS": "5",
        "SV_LOG_LEVEL": "WARNING",
        "PYTHONPATH": f"{ROOT}:{ROOT / 'gen'}",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE
    )
    try:
        lines = [(await asyncio.wait_for(process.stdout.readline(), 30)).decode().strip() for _ in range(3)]
        assert lines[0] == f"gateway: 2 workers on http://127.0.0.1:{port}"
        assert lines[1:] == [f"gateway listening on http://127.0.0.1:{port}"] * 2
        workers = children(process.pid)
        assert len(workers) == 2
        url = f"http://127.0.0.1:{port}/api/recommendations/universes?user_id=user-1&age_group=6-8"
        # A new connection per request: the kernel spreads connections over the workers.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            for _ in range(40):
                async with http.get(url) as resp:
                    assert resp.status == 200, await resp.text()
            served = []
            for i in range(2):
                async with http.get(f"http://127.0.0.1:{metrics + i}/metrics") as resp:
                    served.append(requests_counted(await resp.text()))
            assert sum(served) == 40 and all(n > 0 for n in served), served
            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:  # whichever worker
                assert resp.status == 200
            # A request in flight when SIGTERM comes is answered before its worker exits: its
            # backend never answers, so it ends at the gateway's deadline (504), after the signal.
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            body = json.dumps({"events": [event_dict()]}).encode()
            writer.write(
                b"POST /api/analytics/events:batch HTTP/1.1\r\nHost: g\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
            await asyncio.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            status_line = await asyncio.wait_for(reader.readline(), 10)
            writer.close()
            assert status_line.startswith(b"HTTP/1.1 504"), status_line
        assert await asyncio.wait_for(process.wait(), timeout=20) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    finally:
        silent.close()
        if process.returncode is None:
            process.kill()
            await process.wait()
