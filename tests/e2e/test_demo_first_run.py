"""First run as a new user does it (issue 15): `python -m system.launcher --demo` on an empty
database, then the seed's recommendation request and the README's dashboard example."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from common.settings import REPO_ROOT
from tests.conftest import _with_database, free_port

ISSUE_REQUEST = (
    '{"user_id":"user-789012","context":{"current_story_id":"story-123456","selected_universes":'
    '["dragon-ball"],"selected_characters":["goku"],"age_group":"6-8"},"limit":5,'
    '"types":["universes","characters","themes","stories"]}'
)


def _call(url: str, body: str | None = None) -> dict:
    data = body.encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())


@pytest.fixture(scope="module")
def demo(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The whole system with the demo's data (small), on a database of its own; its gateway URL."""
    import asyncio

    name = f"sv_demo_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(pg_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    ports = {"analytics": free_port(), "reco": free_port(), "feedback": free_port(), "gateway": free_port()}
    env = {
        **os.environ,
        "SV_DATABASE_URL": _with_database(pg_url, name),
        "SV_DATA_DIR": str(tmp_path_factory.mktemp("demo")),
        "SV_LOG_LEVEL": "WARNING",
        **{f"SV_{k.upper()}_PORT": str(v) for k, v in ports.items()},
        **{f"SV_{k.upper()}_TARGET": f"127.0.0.1:{v}" for k, v in ports.items() if k != "gateway"},
    }
    for variable in ("SV_KAFKA_BOOTSTRAP", "SV_REDIS_URL"):
        env.pop(variable, None)
    log_path = Path(env["SV_DATA_DIR"]) / "launcher.log"
    command = [sys.executable, "-m", "system.launcher", "--demo", "--users", "60", "--days", "14"]
    with log_path.open("wb") as log:
        launcher = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while "Demo data loaded" not in log_path.read_text(errors="replace"):
            assert launcher.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "the demo did not finish loading"
            time.sleep(0.5)
        yield f"http://127.0.0.1:{ports['gateway']}"
    finally:
        launcher.send_signal(signal.SIGTERM)
        try:
            launcher.wait(60)
        except subprocess.TimeoutExpired:
            launcher.kill()
            launcher.wait()
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_the_demo_trains_a_model_that_serves(demo):
    models = _call(f"{demo}/api/admin/recommendations/models")
    assert models["versions"], "no model was trained after the demo data was loaded"
    assert models["serving_version"] == models["versions"][0]["version"] != "bootstrap"


def test_the_seeds_request_gets_four_lists_from_the_trained_model(demo):
    answer = _call(f"{demo}/api/recommendations", ISSUE_REQUEST)
    lists = answer["lists"]
    assert [x["recommendation_type"] for x in lists] == ["universe", "character", "theme", "story"]
    assert all(x["items"] for x in lists), lists
    assert {x["model_version"] for x in lists} != {"bootstrap"}


def test_a_new_user_gets_what_their_age_group_uses_most(demo):
    dashboard = _call(f"{demo}/api/analytics/dashboard?age_group=6-8")
    most_used = [row["key"] for row in dashboard["top_universes"][:3]]
    assert len(most_used) == 3
    user = f"new-{uuid.uuid4().hex[:8]}"
    found = _call(f"{demo}/api/recommendations/universes?user_id={user}&age_group=6-8&limit=5")["list"]
    assert set(most_used) & {i["id"] for i in found["items"]}, (most_used, found)
    scores = []
    for kind in ("universes", "characters", "themes", "stories"):
        url = f"{demo}/api/recommendations/{kind}?user_id={user}&age_group=6-8&limit=5"
        items = _call(url)["list"]["items"]
        scores += [i["score"] for i in items]
        for item in items:
            assert (item["score"] > 0) == (item["reason"] != "suits your age group"), item
    assert sum(s > 0 for s in scores) > len(scores) / 2, scores


def test_the_readmes_dashboard_example_shows_the_demos_users(demo):
    readme = (REPO_ROOT / "README.md").read_text()
    (path,) = re.findall(r'curl -s "\$API(/api/analytics/dashboard[^"]*)"', readme)
    dashboard = _call(demo + path)
    assert int(dashboard["active_users"]["mau"]) > 0, dashboard["active_users"]
