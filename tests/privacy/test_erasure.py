"""Right to erasure: DELETE /api/admin/users/{user_id} through the real gateway and services."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from storyverse.analytics.v1 import analytics_service_pb2 as pb
from storyverse.analytics.v1 import analytics_service_pb2_grpc as pb_grpc

from common.privacy.erasure import user_hash
from common.privacy.training import not_erased
from feedback_svc.erasure import erase_user as erase_feedback
from reco_svc.store import interaction_events
from tests.events import event


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
    assert body["deleted"]["events"] == "2" and body["deleted"]["failed_events"] == "1"
    assert await db.fetchval("SELECT count(*) FROM events WHERE user_id = $1", erased) == 0
    assert await db.fetchval("SELECT count(*) FROM events WHERE user_id = $1", kept) == 1
    assert await db.fetchval("SELECT count(*) FROM failed_events WHERE payload->>'user_id' = $1", erased) == 0

    # Listed for training by a salted hash; the audit log names no user and holds no data.
    async with db.acquire() as conn:
        hashed = await user_hash(conn, erased)
    assert body["user_hash"] == hashed and erased not in hashed
    audit = await db.fetchrow("SELECT * FROM privacy_audit WHERE id = $1", int(body["audit_id"]))
    assert audit["user_hash"] == hashed and audit["request_id"] == "erase-1"
    assert erased not in json.dumps({k: str(v) for k, v in audit.items()})

    # The next training skips the user, even for an event that arrives after the erasure.
    await stub.RecordEvents(pb.RecordEventsRequest(events=[event(user_id=erased)]))
    trainable = await db.fetch(
        "SELECT DISTINCT user_id FROM events e WHERE e.user_id = ANY($1::text[]) AND "
        + not_erased("e.user_id"),
        [erased, kept],
    )
    assert [r["user_id"] for r in trainable] == [kept]
    # ... and the recommendation trainer's own query applies that filter.
    since = datetime.now(UTC) - timedelta(days=1)
    trained = {r["user_id"] async for batch in interaction_events(db, since) for r in batch}
    assert kept in trained and erased not in trained

    # Idempotent: again, the late event goes and the request is recorded again.
    async with http.delete(f"{gateway_url}/api/admin/users/{erased}") as resp:
        assert resp.status == 200
        again = await resp.json()
    assert again["deleted"]["events"] == "1" and again["audit_id"] != body["audit_id"]


async def test_a_bad_user_id_is_400(http, gateway_url):
    for user_id in ("..%2F..%2Fetc", "a%20b", "x" * 200, "%27%3B%20DROP%20TABLE%20events"):
        async with http.delete(f"{gateway_url}/api/admin/users/{user_id}") as resp:
            assert resp.status == 400, user_id
            assert (await resp.json())["details"][0]["field"] == "user_id"


async def test_the_feedback_service_erases_its_rows(db):
    async with db.acquire() as conn, conn.transaction():
        # A scratch schema stands in for the feedback tables (on this branch they may not exist yet).
        await conn.execute(
            "CREATE SCHEMA IF NOT EXISTS erasure_scratch; SET LOCAL search_path = erasure_scratch"
        )
        await conn.execute("CREATE TABLE IF NOT EXISTS feedback (user_id text, comment text)")
        await conn.execute("INSERT INTO feedback VALUES ('kid-1', 'nice'), ('kid-1', 'ok'), ('kid-2', 'fun')")
        assert await erase_feedback(conn, "kid-1") == {"feedback": 2}
        assert await conn.fetchval("SELECT count(*) FROM feedback") == 1
        await conn.execute("DROP SCHEMA erasure_scratch CASCADE")


async def test_erasure_functions_skip_tables_that_do_not_exist(settings):
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute("SET search_path = pg_catalog")  # none of our tables visible
        assert await erase_feedback(conn, "kid-1") == {"feedback": 0}
    finally:
        await conn.close()
