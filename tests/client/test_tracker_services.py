"""Tracker against the real services: over HTTP (gateway) and gRPC, every event stored once,
also when the analytics service is killed and restarted in the middle of the stream."""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import time
from dataclasses import replace

import pytest

from storyverse_client import GrpcTransport, HttpTransport, Tracker
from tests.client.conftest import SRC
from tests.conftest import free_port, service_env, spawn, stop, wait_serving
from tests.gateway.gateway_helpers import start_gateway

SESSION = "session-client"


async def stored(db, ids: list[str]) -> int:
    return await db.fetchval("SELECT count(*) FROM events WHERE event_id = ANY($1::text[])", ids)


def track_many(tracker: Tracker, n: int, per_second: float = 0.0) -> list[str]:
    ids = []
    for i in range(n):
        event_id = tracker.track(
            "story_started" if i % 2 else "page_view",
            user_id=f"user-client-{i % 17}",
            session_id=SESSION,
            properties={"story_id": f"story-{i % 5}", "device_type": "tablet", "platform": "ios"},
        )
        assert event_id is not None
        ids.append(event_id)
        if per_second:
            time.sleep(1 / per_second)
    return ids


@pytest.fixture(params=["http", "grpc"])
def transport(request, gateway_url, analytics):
    if request.param == "http":
        made = HttpTransport(gateway_url)
    else:
        made = GrpcTransport(f"127.0.0.1:{analytics.port}")
    yield made
    made.close()


async def test_every_event_is_stored_once(transport, db):
    tracker = Tracker(transport, batch_size=100, flush_interval=0.05)
    ids = await asyncio.to_thread(track_many, tracker, 250)
    assert await asyncio.to_thread(tracker.close, 30)
    stats = tracker.stats
    assert (stats.accepted, stats.duplicates, stats.dropped, stats.rejected) == (250, 0, 0, 0), stats
    assert await stored(db, ids) == 250
    assert ids == sorted(ids), "the ids sort in the order the events were tracked"


async def test_invalid_events_are_counted_as_rejected_not_dropped(transport):
    tracker = Tracker(transport, flush_interval=0.05)
    tracker.track("story_started", user_id="user-ok")
    tracker.track("not_an_event_type", user_id="user-ok")
    assert await asyncio.to_thread(tracker.close, 30)
    stats = tracker.stats
    assert (stats.accepted, stats.rejected, stats.dropped) == (1, 1, 0), stats
    assert stats.rejections[0]["field"] == "event_type", stats.rejections


async def test_an_event_that_does_not_fit_the_contract_is_dropped_alone_and_reported(transport, db):
    """The batch is refused as a whole (400 / INVALID_ARGUMENT naming events[1]): that event is
    dropped and reported, the others are sent again without it."""
    dropped: list[tuple[int, str]] = []
    tracker = Tracker(
        transport, flush_interval=0.05, on_drop=lambda events, why: dropped.append((len(events), why))
    )
    good = [tracker.track("story_started", user_id="user-x")]
    tracker.track("story_creation", user_id="user-x", properties={"creation_time": "long"})
    good.append(tracker.track("story_started", user_id="user-x"))
    assert await asyncio.to_thread(tracker.flush, 30)
    stats = tracker.stats
    assert stats.dropped == 1 and stats.drop_reasons == {"refused": 1} and stats.accepted == 2, stats
    assert dropped[0][0] == 1 and "creation_time" in dropped[0][1], dropped
    assert await stored(db, good) == 2
    tracker.close()


@pytest.mark.parametrize("via", ["grpc", "http"])
async def test_a_service_restart_mid_stream_loses_and_doubles_nothing(
    via, settings, gateway_settings, db, tmp_path
):
    """`python -m analytics_svc` is killed (SIGKILL: no goodbye) while events stream in, and
    started again on the same port; the tracker retries the same event_ids meanwhile."""
    port = free_port()
    env = service_env(settings, analytics_port=port, analytics_workers=1)
    process = spawn("analytics_svc", env, tmp_path / "first.log")
    gateway = None
    try:
        await asyncio.to_thread(wait_serving, f"127.0.0.1:{port}")
        if via == "http":
            gateway = await start_gateway(replace(gateway_settings, analytics_target=f"127.0.0.1:{port}"))
            transport = HttpTransport(str(gateway.make_url("")).rstrip("/"))
        else:
            transport = GrpcTransport(f"127.0.0.1:{port}")
        tracker = Tracker(transport, batch_size=50, flush_interval=0.05, backoff=(0.05, 0.5))
        ids: list[str] = []
        producer = threading.Thread(target=lambda: ids.extend(track_many(tracker, 3000, per_second=1000)))
        producer.start()
        await asyncio.sleep(1.0)
        accepted_before_kill = tracker.stats.accepted
        process.send_signal(signal.SIGKILL)
        process.wait()
        await asyncio.sleep(1.0)
        process = spawn("analytics_svc", env, tmp_path / "second.log")
        await asyncio.to_thread(wait_serving, f"127.0.0.1:{port}")
        await asyncio.to_thread(producer.join)
        assert await asyncio.to_thread(tracker.close, 60)
        transport.close()
        stats = tracker.stats
        assert 0 < accepted_before_kill < 3000, "the kill came in the middle of the stream"
        assert stats.retries > 0, stats
        assert stats.dropped == 0 and stats.rejected == 0, stats
        assert stats.accepted + stats.duplicates == 3000, stats
        assert len(set(ids)) == 3000
        assert await stored(db, ids) == 3000
    finally:
        if gateway is not None:
            await gateway.close()
        stop(process)


async def test_flushes_at_exit(gateway_url, db, tmp_path):
    """A program that tracks and exits without close(): the events still arrive."""
    script = tmp_path / "app.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {SRC!r})\n"
        "from storyverse_client import HttpTransport, Tracker\n"
        f"tracker = Tracker(HttpTransport({gateway_url!r}), flush_interval=60)\n"
        "for i in range(20):\n"
        "    print(tracker.track('page_view', user_id='user-exit'))\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(script), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    ids = out.decode().split()
    assert len(ids) == 20
    assert await stored(db, ids) == 20
