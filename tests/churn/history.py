"""A history of children whose return is known by construction, and an analytics service of its
own (own database, own bus) behind a gateway: for the tests of predicted retention in the
service (tests/churn/test_service.py) and on the dashboard page (tests/page/)."""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from analytics_svc.service import SPEC
from common.bus.inprocess import InProcessBus
from common.grpc_server import RunningService
from common.settings import Settings
from tests.conftest import gateway_server, start_service

AGES = ("3-5", "6-8", "9-12", "13-17")
PLATFORMS = ("ios", "android", "web")
DEVICES = ("tablet", "phone", "desktop")
DAYS = 56  # of history before today


def history(today: date, users: int = 96, seed: int = 3) -> tuple[list[dict], dict[str, dict]]:
    """Events of `users` children over the DAYS days before `today`: "regular" children visit on
    most days to the end, the others on fewer days and stop for good on a random day."""
    rng = random.Random(seed)
    events, kids = [], {}
    for i in range(users):
        user = f"kid-{i:03d}-{uuid.uuid4().hex[:6]}"
        regular = i % 2 == 0
        first = rng.randrange(0, 21)
        stop = DAYS if regular else rng.randrange(first + 3, DAYS - 10)
        rate = 0.7 if regular else 0.35
        context = {"age_group": AGES[i % 4], "platform": PLATFORMS[i % 3], "device_type": DEVICES[i % 3]}
        days = [d for d in range(first, stop) if d == first or rng.random() < rate]
        kids[user] = {"regular": regular, "days": days, **context}
        for d in days:
            day = today - timedelta(days=DAYS - d)
            at = datetime(day.year, day.month, day.day, rng.randrange(7, 21), rng.randrange(60), tzinfo=UTC)
            session = f"s-{uuid.uuid4().hex[:10]}"
            kinds = ["session_start", "story_started", "story_creation", "story_view"]
            if regular or rng.random() < 0.3:
                kinds.append("story_completed")
            for k, kind in enumerate(kinds):
                events.append(
                    {
                        "event_id": uuid.uuid4().hex,
                        "user_id": user,
                        "event_type": kind,
                        "timestamp": (at + timedelta(minutes=k)).isoformat().replace("+00:00", "Z"),
                        "session_id": session,
                        "properties": dict(context),
                    }
                )
    return events, kids


@contextlib.asynccontextmanager
async def churn_service(
    settings: Settings, database_url: str, gateway: Settings | None = None
) -> AsyncIterator[tuple[RunningService, str]]:
    """An analytics service on `database_url` and a gateway in front of it (`gateway`: the
    gateway's settings, whose other services stay; default `settings`). Yields (service, url)."""
    bus = InProcessBus()
    await bus.start()
    analytics = await start_service(SPEC, replace(settings, database_url=database_url), bus)
    front = gateway_server(replace(gateway or settings, analytics_target=f"127.0.0.1:{analytics.port}"))
    await front.start_server()
    try:
        yield analytics, str(front.make_url("")).rstrip("/")
    finally:
        await front.close()
        await analytics.stop(grace=1)
        await bus.aclose()


async def send(http, url: str, events: list[dict]) -> None:
    for i in range(0, len(events), 1000):
        async with http.post(
            f"{url}/api/analytics/events:batch", json={"events": events[i : i + 1000]}
        ) as resp:
            body = await resp.json()
            assert resp.status == 200 and body["result"]["rejected"] == 0, body
