"""Critical alerts: which analysed feedback raises one, and what raising one does.

Rules (docs/feedback.md):
- safety: a comment (or a chosen category with a rating of 3 or less) reports
  frightening or inappropriate content. Critical for inappropriate content, high
  for frightening content. The story is hidden and queued for a moderator.
- technical: at least `technical_reports` technical problem reports for one
  story within `technical_minutes`.
- rating_drop: the latest ratings of a story, or of its universe combination,
  fell against their baseline (anomaly.py).
An alert is stored once per open (scope, subject, kind): later evidence appends
its feedback ids. New alerts go to the bus topic "feedback.alerts"; hiding and
unhiding go to "catalog.visibility".
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import asyncpg

from common.bus import BusMessage, EventBus
from common.errors import FailedPrecondition, NotFound
from feedback_svc import store
from feedback_svc.alerts.anomaly import DropRule, DropTest, check_series
from feedback_svc.sentiment.aspects import Aspect
from feedback_svc.times import rfc3339

log = logging.getLogger(__name__)
ALERTS_TOPIC = "feedback.alerts"
VISIBILITY_TOPIC = "catalog.visibility"
SAFETY_SEVERITY = {"inappropriate_content": "critical", "scary_content": "high"}
_SAFETY_WORDING = {"inappropriate_content": "inappropriate content", "scary_content": "frightening content"}


@dataclass(frozen=True)
class AlertRules:
    technical_reports: int = 3
    technical_minutes: int = 60
    drop: DropRule = field(default_factory=DropRule)
    # How far back the rating series of a story or combination goes.
    drop_days: int = 60


@dataclass(frozen=True)
class Analysed:
    feedback_id: str
    story_id: str
    rating: int
    aspects: list[Aspect]


@dataclass(frozen=True)
class Candidate:
    kind: str
    severity: str
    scope: str
    subject: str
    story_id: str | None
    message: str
    feedback_ids: list[str]


def safety_candidates(item: Analysed) -> list[Candidate]:
    found = []
    for aspect in item.aspects:
        if aspect.aspect in SAFETY_SEVERITY and aspect.polarity == "negative":
            wording = _SAFETY_WORDING[aspect.aspect]
            found.append(
                Candidate(
                    "safety",
                    SAFETY_SEVERITY[aspect.aspect],
                    "story",
                    item.story_id,
                    item.story_id,
                    f'A parent reported {wording} ("{aspect.evidence}") in story {item.story_id}',
                    [item.feedback_id],
                )
            )
    # One safety alert per story: the most severe wording leads.
    found.sort(key=lambda c: c.severity != "critical")
    return found[:1]


def alert_dict(record: asyncpg.Record) -> dict:
    return {
        "alert_id": record["alert_id"],
        "kind": record["kind"],
        "severity": record["severity"],
        "scope": record["scope"],
        "subject": record["subject"],
        "story_id": record["story_id"],
        "message": record["message"],
        "status": record["status"],
        "feedback_ids": list(record["feedback_ids"]),
        "created_at": rfc3339(record["created_at"]),
    }


class AlertDesk:
    def __init__(self, pool: asyncpg.Pool, bus: EventBus, rules: AlertRules | None = None) -> None:
        self.pool = pool
        self.bus = bus
        self.rules = rules or AlertRules()

    async def evaluate(self, items: Sequence[Analysed]) -> list[dict]:
        """Raise whatever alerts these freshly analysed feedback call for; the new ones are returned."""
        candidates: list[Candidate] = []
        for item in items:
            candidates += safety_candidates(item)
        stories = list(dict.fromkeys(item.story_id for item in items))
        technical = {
            i.story_id
            for i in items
            if any(a.aspect == "technical_problem" and a.polarity == "negative" for a in i.aspects)
        }
        for story_id in stories:
            if story_id in technical:
                candidates += await self._technical(story_id)
        candidates += await self._rating_drops(items)
        raised = []
        for candidate in candidates:
            alert = await self.raise_alert(candidate)
            if alert is not None:
                raised.append(alert)
        return raised

    async def _technical(self, story_id: str) -> list[Candidate]:
        ids = await store.technical_reports(self.pool, story_id, self.rules.technical_minutes)
        if len(ids) < self.rules.technical_reports:
            return []
        severity = "high" if len(ids) >= 3 * self.rules.technical_reports else "medium"
        message = (
            f"{len(ids)} technical problem reports for story {story_id}"
            f" in the last {self.rules.technical_minutes} minutes"
        )
        return [Candidate("technical", severity, "story", story_id, story_id, message, ids)]

    async def _rating_drops(self, items: Sequence[Analysed]) -> list[Candidate]:
        """Test the rating series of every story in the batch and of their combinations
        (two queries for the whole batch)."""
        rule, days = self.rules.drop, self.rules.drop_days
        limit = rule.window + rule.max_baseline
        ids_by_story: dict[str, list[str]] = {}
        for item in items:
            ids_by_story.setdefault(item.story_id, []).append(item.feedback_id)
        combinations = await store.story_combinations(self.pool, list(ids_by_story))
        ids_by_combination: dict[str, list[str]] = {}
        for story_id, combination in combinations.items():
            ids_by_combination.setdefault(combination, []).extend(ids_by_story[story_id])
        found = []
        for scope, ids_by_subject in (("story", ids_by_story), ("combination", ids_by_combination)):
            series = await store.rating_series(self.pool, scope, list(ids_by_subject), limit, days)
            for subject, feedback_ids in ids_by_subject.items():
                test = check_series(series.get(subject, []), rule)
                await self._resolve_if_recovered(scope, subject, test)
                if test is None or not test.anomalous:
                    continue
                what = f"story {subject}" if scope == "story" else f"stories combining {subject}"
                message = (
                    f"Ratings of {what} dropped: last {rule.window} average {test.recent_mean:.2f}"
                    f" against {test.baseline_mean:.2f} before (p = {test.p_value:.1e})"
                )
                severity = "high" if scope == "story" else "medium"
                story_id = subject if scope == "story" else None
                found.append(
                    Candidate("rating_drop", severity, scope, subject, story_id, message, feedback_ids)
                )
        return found

    async def _resolve_if_recovered(self, scope: str, subject: str, test: DropTest | None) -> None:
        # Hysteresis: recovered means back within half the alarm's drop, so a series
        # hovering at the threshold does not open and close alerts in turn.
        if test is not None and test.drop < self.rules.drop.min_drop / 2:
            await store.resolve_alerts(self.pool, scope, subject, "rating_drop", "ratings recovered")

    async def listing(self, status: str | None, limit: int) -> list[dict]:
        """Alerts newest first, of one status or all."""
        return [alert_dict(r) for r in await store.list_alerts(self.pool, status, None, limit)]

    async def resolve(self, alert_id: str, note: str) -> dict:
        """An operator closes a technical or rating_drop alert."""
        async with self.pool.acquire() as conn, conn.transaction():
            current = await store.get_alert(conn, alert_id)
            if current is None:
                raise NotFound(f"alert {alert_id} does not exist")
            if current["kind"] == "safety" and current["status"] == "open":
                raise FailedPrecondition("safety alerts are closed by a moderation decision on the story")
            record = await store.resolve_alert(conn, alert_id, note) or current
        return alert_dict(record)

    async def raise_alert(self, candidate: Candidate) -> dict | None:
        """Store (or extend) the alert; for safety, hide the story and queue it for a
        moderator in the same transaction. Returns the alert when it is new."""
        hidden = False
        async with self.pool.acquire() as conn, conn.transaction():
            if candidate.kind == "safety":
                # At-least-once delivery may bring back a report a moderator already
                # decided on: it must not hide the story again.
                done = await store.handled_feedback(
                    conn, candidate.scope, candidate.subject, candidate.kind, candidate.feedback_ids
                )
                if done:
                    candidate = replace(
                        candidate, feedback_ids=[i for i in candidate.feedback_ids if i not in done]
                    )
                if not candidate.feedback_ids:
                    return None
            record = await store.upsert_alert(
                conn,
                f"alr-{uuid.uuid4().hex[:16]}",
                candidate.kind,
                candidate.severity,
                candidate.scope,
                candidate.subject,
                candidate.story_id,
                candidate.message,
                candidate.feedback_ids,
            )
            if candidate.kind == "safety" and candidate.story_id:
                hidden = await store.hide_story(conn, candidate.story_id, candidate.message)
                await store.enqueue_moderation(
                    conn, candidate.story_id, candidate.message, record["alert_id"]
                )
        alert = alert_dict(record)
        if hidden:
            await publish_visibility(self.bus, candidate.story_id or "", True, candidate.message)
        if not record["created"]:
            return None
        log.warning("alert raised", extra={"fields": {k: alert[k] for k in ("alert_id", "kind", "subject")}})
        await self.bus.publish(
            ALERTS_TOPIC, [BusMessage(key=candidate.subject.encode(), value=json.dumps(alert).encode())]
        )
        return alert


async def publish_visibility(bus: EventBus, story_id: str, hidden: bool, reason: str) -> None:
    """Tell the recommender at once that a story must (not) be shown any more."""
    payload = {
        "item_type": "story",
        "item_id": story_id,
        "hidden": hidden,
        "reason": reason,
        "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    await bus.publish(
        VISIBILITY_TOPIC, [BusMessage(key=story_id.encode(), value=json.dumps(payload).encode())]
    )
