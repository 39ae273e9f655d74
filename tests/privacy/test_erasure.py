"""Right to erasure: DELETE /api/admin/users/{user_id} through the real gateway and services,
the job's status, late data dropped, and the job's retries (common/privacy)."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg
from storyverse.analytics.v1 import analytics_service_pb2 as pb
from storyverse.analytics.v1 import analytics_service_pb2_grpc as pb_grpc

from common.bus.inprocess import InProcessBus
from common.grpc_server import COMMON_MIGRATIONS
from common.migrations import apply_migrations
from common.privacy import jobs
from common.privacy.erasure import request_erasure, user_hash
from common.privacy.participant import ErasureParticipant
from common.privacy.steps import ErasureStep, delete_where
from common.privacy.training import not_erased
from reco_svc.store import interaction_events
from tests.events import event
from tests.feedback.conftest import entry


async def erasure_status(http, gateway_url: str, audit_id: str, until: str = "completed", timeout=30.0):
    """Poll GET /api/admin/erasures/{audit_id} until the job reaches `until`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with http.get(f"{gateway_url}/api/admin/erasures/{audit_id}") as resp:
            assert resp.status == 200, await resp.text()
            status = await resp.json()
        if status["state"] == until or asyncio.get_running_loop().time() > deadline:
            return status
        await asyncio.sleep(0.1)


async def test_delete_user_data_erases_everywhere_and_keeps_only_a_salted_hash(
    http, gateway_url, analytics_channel, db
):
    erased, kept = f"kid-{uuid.uuid4().hex[:8]}", f"kid-{uuid.uuid4().hex[:8]}"
    stub = pb_grpc.AnalyticsServiceStub(analytics_channel)
    bad = event(user_id=erased)
    bad.properties.extras.update({"email": "parent@example.com"})
    batch = [event(user_id=erased), event(user_id=erased), event(user_id=kept), bad]
    reply = await stub.RecordEvents(pb.RecordEventsRequest(events=batch))
    assert (reply.result.accepted, reply.result.rejected) == (3, 1)

    async with http.delete(
        f"{gateway_url}/api/admin/users/{erased}", headers={"X-Request-Id": "erase-1"}
    ) as resp:
        assert resp.status == 200, await resp.text()
        body = await resp.json()
    # Answered after the first pass: the rows are gone already, a verifying pass follows.
    assert body["state"] in ("verifying", "completed")
    assert body["deleted"]["events"] == "2" and body["deleted"]["failed_events"] == "1"
    assert await db.fetchval("SELECT count(*) FROM events WHERE user_id = $1", erased) == 0
    assert await db.fetchval("SELECT count(*) FROM events WHERE user_id = $1", kept) == 1
    assert await db.fetchval("SELECT count(*) FROM failed_events WHERE payload->>'user_id' = $1", erased) == 0

    # The job's status: every registered store of every service, each run twice (erase, verify).
    status = await erasure_status(http, gateway_url, body["audit_id"])
    assert status["state"] == "completed" and status["pass_number"] == 2, status
    registered = {r["step"]: r["service"] for r in await db.fetch("SELECT step, service FROM erasure_steps")}
    assert {s["step"]: s["service"] for s in status["steps"]} == registered
    assert {"events", "realtime_minute_users", "feedback", "catalog_items", "reco_features"} <= set(
        registered
    )
    assert all(s["done"] and s["attempts"] == 2 and not s["last_error"] for s in status["steps"])
    assert status["deleted"]["events"] == "2"

    # Listed by a salted hash; the audit log names no user and holds no data, only counts.
    async with db.acquire() as conn:
        hashed = await user_hash(conn, erased)
    assert body["user_hash"] == hashed and status["user_hash"] == hashed and erased not in hashed
    audit = await db.fetchrow("SELECT * FROM privacy_audit WHERE id = $1", int(body["audit_id"]))
    assert audit["user_hash"] == hashed and audit["request_id"] == "erase-1"
    assert json.loads(audit["deleted"])["events"] == 2
    assert erased not in json.dumps({k: str(v) for k, v in audit.items()})
    assert await db.fetchval("SELECT user_id FROM erasure_jobs WHERE audit_id = $1", audit["id"]) is None

    # Late data: what happened before the erasure (an offline device, a retry) is acknowledged
    # and dropped; what happens after it is new data, kept, but never used for training.
    erased_at = await db.fetchval("SELECT erased_at FROM erased_users WHERE user_hash = $1", hashed)
    offline = event(user_id=erased, timestamp=_rfc3339(erased_at - timedelta(minutes=5)))
    invalid = event(user_id=erased)
    invalid.properties.extras.update({"email": "parent@example.com"})
    reply = await stub.RecordEvents(pb.RecordEventsRequest(events=[offline, invalid]))
    assert (reply.result.accepted, reply.result.rejected) == (1, 1)  # still told it is invalid
    assert await db.fetchval("SELECT count(*) FROM failed_events WHERE payload->>'user_id' = $1", erased) == 0
    async with http.post(
        f"{gateway_url}/api/feedback",
        json=_json(entry(user_id=erased, timestamp=_rfc3339(erased_at - timedelta(minutes=5)))),
    ) as resp:
        assert resp.status == 200, await resp.text()
    new = event(user_id=erased, timestamp=_rfc3339(datetime.now(UTC) + timedelta(seconds=2)))
    await stub.RecordEvents(pb.RecordEventsRequest(events=[new]))
    rows = await db.fetch("SELECT event_id FROM events WHERE user_id = $1", erased)
    assert [r["event_id"] for r in rows] == [new.event_id]
    assert await db.fetchval("SELECT count(*) FROM feedback WHERE user_id = $1", erased) == 0
    trainable = await db.fetch(
        "SELECT DISTINCT user_id FROM events e WHERE e.user_id = ANY($1::text[]) AND "
        + not_erased("e.user_id"),
        [erased, kept],
    )
    assert [r["user_id"] for r in trainable] == [kept]
    since = datetime.now(UTC) - timedelta(days=1)
    trained = {r["user_id"] async for batch in interaction_events(db, since) for r in batch}
    assert kept in trained and erased not in trained

    # Idempotent: again, what arrived since goes and the request is recorded again.
    async with http.delete(f"{gateway_url}/api/admin/users/{erased}") as resp:
        assert resp.status == 200
        again = await resp.json()
    assert again["deleted"]["events"] == "1" and again["audit_id"] != body["audit_id"]


async def test_a_bad_user_id_is_400_and_an_unknown_erasure_404(http, gateway_url):
    for user_id in ("..%2F..%2Fetc", "a%20b", "x" * 200, "%27%3B%20DROP%20TABLE%20events"):
        async with http.delete(f"{gateway_url}/api/admin/users/{user_id}") as resp:
            assert resp.status == 400, user_id
            assert (await resp.json())["details"][0]["field"] == "user_id"
    async with http.get(f"{gateway_url}/api/admin/erasures/0") as resp:
        assert resp.status == 400
        assert (await resp.json())["details"][0]["field"] == "audit_id"
    async with http.get(f"{gateway_url}/api/admin/erasures/999999999") as resp:
        assert resp.status == 404


async def test_a_failing_step_is_retried_until_it_succeeds_and_verified(settings, own_database):
    """A store that fails twice (e.g. Redis paused) keeps the job open, visibly, until it works;
    then a verifying pass runs every step again after a pause."""
    pool = await asyncpg.create_pool(own_database, min_size=1, max_size=4)
    bus = InProcessBus()
    await bus.start()
    fast = replace(settings, database_url=own_database, erasure_poll_seconds=0.1, erasure_verify_seconds=0.3)
    runs: list[str] = []

    async def flaky(user_id: str) -> int:
        runs.append(user_id)
        if len(runs) <= 2:
            raise ConnectionError("store unreachable")
        return 5 if len(runs) == 3 else 0

    participant = ErasureParticipant(pool, bus, fast, "test")
    participant.add(steps=[ErasureStep("flaky_store", "a store that fails twice", flaky)])
    try:
        await apply_migrations(pool, "common", COMMON_MIGRATIONS)
        await participant.start()
        erasure = await request_erasure(pool, bus, "kid-retry", requested_by="test")
        failing = await _until(pool, erasure.audit_id, lambda s: s.steps[0].attempts >= 2)
        assert failing.state == "erasing" and "store unreachable" in failing.steps[0].last_error
        assert not failing.steps[0].done and failing.steps[0].due_at is not None
        done = await _until(pool, erasure.audit_id, lambda s: s.state == "completed")
        assert done.pass_ == 2 and done.removed == {"flaky_store": 5} and done.steps[0].attempts == 4
        assert runs == ["kid-retry"] * 4
        assert await pool.fetchval("SELECT deleted FROM privacy_audit WHERE id = $1", erasure.audit_id) == (
            '{"flaky_store": 5}'
        )
    finally:
        await participant.aclose()
        await bus.aclose()
        await pool.close()


async def test_delete_where_skips_tables_that_do_not_exist(settings):
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute("SET search_path = pg_catalog")  # none of our tables visible
        assert await delete_where(conn, "feedback", "user_id = $1", "kid-1") == 0
    finally:
        await conn.close()


async def _until(pool, audit_id: int, check, timeout: float = 20.0) -> jobs.JobStatus:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await jobs.status(pool, audit_id)
        if check(status):
            return status
        assert asyncio.get_running_loop().time() < deadline, status
        await asyncio.sleep(0.05)


def _rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json(message) -> dict:
    from google.protobuf import json_format

    return json_format.MessageToDict(message, preserving_proto_field_name=True)
