"""Group commit of submissions: shared commits, replays within a group, the bound on waiting calls."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from common.errors import ResourceExhausted
from feedback_svc.group_commit import SubmissionWriter
from feedback_svc.submission import to_row
from tests.feedback.conftest import entry


async def test_concurrent_rows_share_commits_and_a_replay_in_the_same_group_is_not_created(feedback, db):
    writer = SubmissionWriter(db)
    rows = [to_row(entry(), datetime.now(UTC)) for _ in range(50)]
    try:
        stored = await asyncio.gather(*(writer.write(r) for r in [*rows, rows[0]]))
    finally:
        await writer.aclose()
    assert [s.created for s in stored] == [True] * 50 + [False]
    ids = [r.feedback_id for r in rows]
    assert await db.fetchval("SELECT count(*) FROM feedback WHERE feedback_id = ANY($1::text[])", ids) == 50


async def test_a_replay_reads_back_whether_the_row_was_analysed(feedback, db):
    writer = SubmissionWriter(db)
    row = to_row(entry(), datetime.now(UTC))
    try:
        assert (await writer.write(row)).created
        await db.execute("UPDATE feedback SET analyzed = true WHERE feedback_id = $1", row.feedback_id)
        again = await writer.write(row)
    finally:
        await writer.aclose()
    assert (again.created, again.analyzed) == (False, True)


async def test_past_max_pending_calls_are_refused_with_a_retry_hint(feedback, db):
    writer = SubmissionWriter(db, max_pending=2)
    waiting = [asyncio.create_task(writer.write(to_row(entry(), datetime.now(UTC)))) for _ in range(2)]
    await asyncio.sleep(0)  # both are queued, their commit not done yet
    try:
        with pytest.raises(ResourceExhausted) as refused:
            await writer.write(to_row(entry(), datetime.now(UTC)))
        assert refused.value.retry_after == 1
        assert all(s.created for s in await asyncio.gather(*waiting))
    finally:
        await writer.aclose()
