"""The status of an erasure across databases (common/privacy/peers.py `merge`), pure."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from common.privacy import jobs
from common.privacy.peers import merge

T0, T1 = datetime(2026, 1, 1, 12, tzinfo=UTC), datetime(2026, 1, 1, 12, 5, tzinfo=UTC)
LOCAL = jobs.JobStatus(
    7, "hash", jobs.COMPLETED, 2, T0, T0,
    [jobs.StepStatus("events", "analytics", "PostgreSQL events", True, 1, "", 4, None)],
)  # fmt: skip
REGISTERED = {"recommendation": [["reco_interactions", "PostgreSQL reco_interactions"]]}


def report(state: str, done: bool, completed_at: datetime | None) -> dict:
    step = {"step": "reco_interactions", "store": "PostgreSQL reco_interactions", "done": done,
            "attempts": 1, "last_error": "", "removed": 3, "due_at": None}  # fmt: skip
    return {"state": state, "completed_at": completed_at, "steps": json.dumps([step])}


def test_a_registered_service_that_has_not_reported_holds_the_job_open():
    merged = merge(LOCAL, {"analytics"}, REGISTERED, {})
    assert merged.state == jobs.ERASING and merged.completed_at is None
    pending = merged.steps[-1]
    assert (pending.step, pending.service, pending.done) == ("reco_interactions", "recommendation", False)


def test_the_job_is_as_far_as_its_least_advanced_service():
    verifying = merge(
        LOCAL, {"analytics"}, REGISTERED, {"recommendation": report(jobs.VERIFYING, True, None)}
    )
    assert verifying.state == jobs.VERIFYING and verifying.completed_at is None
    done = merge(LOCAL, {"analytics"}, REGISTERED, {"recommendation": report(jobs.COMPLETED, True, T1)})
    assert done.state == jobs.COMPLETED and done.completed_at == T1  # the last one to finish
    assert [s.removed for s in done.steps] == [4, 3]


def test_services_whose_steps_are_local_are_not_counted_twice():
    shared = merge(
        LOCAL,
        {"analytics", "recommendation"},
        REGISTERED,
        {"recommendation": report(jobs.ERASING, False, None)},
    )
    assert shared == LOCAL
