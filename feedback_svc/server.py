"""gRPC transport of the feedback service: protobuf in, domain calls, protobuf out."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg
from storyverse.feedback.v1 import feedback_service_pb2 as pb
from storyverse.feedback.v1 import feedback_service_pb2_grpc as pb_grpc

from feedback_svc import paging, search, store
from feedback_svc.alerts import AlertDesk
from feedback_svc.broadcaster import AlertBroadcaster
from feedback_svc.intake import Intake
from feedback_svc.moderation import Moderation
from feedback_svc.summary import Filters, summarize


class FeedbackServicer(pb_grpc.FeedbackServiceServicer):
    def __init__(
        self,
        pool: asyncpg.Pool,
        intake: Intake,
        desk: AlertDesk,
        moderation: Moderation,
        broadcaster: AlertBroadcaster,
    ) -> None:
        self.pool = pool
        self.desk = desk
        self.intake = intake
        self.moderation = moderation
        self.broadcaster = broadcaster

    async def SubmitFeedback(self, request: pb.SubmitFeedbackRequest, context) -> pb.SubmitFeedbackResponse:
        done = await self.intake.submit(request.feedback)
        return pb.SubmitFeedbackResponse(
            feedback_id=done.feedback_id, created=done.created, redacted=done.redacted
        )

    async def GetFeedbackSummary(self, request: pb.GetFeedbackSummaryRequest, context):
        filters = Filters.of(
            request.start_date,
            request.end_date,
            request.story_id,
            request.age_group,
            request.platform,
            request.device_type,
        )
        s = await summarize(self.pool, filters)
        return pb.GetFeedbackSummaryResponse(
            count=s.count,
            average_rating=s.average_rating,
            rating_distribution=s.rating_distribution,
            average_sentiment=s.average_sentiment,
            sentiment_distribution=s.sentiment_distribution,
            top_problems=[pb.ProblemCount(aspect=a, negative=n, positive=p) for a, n, p in s.top_problems],
            satisfaction_trend=[
                pb.SatisfactionPoint(
                    date=r["day"],
                    age_group=r["age_group"],
                    platform=r["platform"],
                    count=r["n"],
                    average_rating=round(float(r["rating"]), 3),
                    average_sentiment=round(float(r["sentiment"]), 3),
                    sentiment_count=r["sentiments"],
                )
                for r in s.trend
            ],
            open_alerts=[_alert_record(r) for r in s.open_alerts],
            quality=[
                pb.QualityScore(
                    scope=q.scope,
                    key=q.key,
                    score=q.score,
                    bayesian_rating=q.bayesian_rating,
                    ratings=q.ratings,
                )
                for q in s.quality
            ],
            suggestions=s.suggestions,
        )

    async def SearchFeedback(self, request: pb.SearchFeedbackRequest, context) -> pb.SearchFeedbackResponse:
        filters = search.SearchFilters.of(
            request.q,
            request.story_id,
            request.min_rating,
            request.max_rating,
            request.start_date,
            request.end_date,
            request.sentiment_label,
        )
        records, token = await search.search(
            self.pool, filters, paging.page_size(request.page_size), request.page_token
        )
        hits = [pb.SearchHit(feedback=_entry(r), rank=r["rank"], snippet=r["snippet"]) for r in records]
        return pb.SearchFeedbackResponse(hits=hits, next_page_token=token)

    async def ListAlerts(self, request: pb.ListAlertsRequest, context) -> pb.ListAlertsResponse:
        records = await store.list_alerts(
            self.pool, request.status or None, None, paging.page_size(request.page_size)
        )
        return pb.ListAlertsResponse(alerts=[_alert_record(r) for r in records])

    async def ListStoryFeedback(self, request: pb.ListStoryFeedbackRequest, context):
        records, token = await search.story_feedback(
            self.pool, request.story_id, paging.page_size(request.page_size), request.page_token
        )
        return pb.ListStoryFeedbackResponse(feedback=[_entry(r) for r in records], next_page_token=token)

    async def ResolveAlert(self, request: pb.ResolveAlertRequest, context) -> pb.ResolveAlertResponse:
        alert = await self.desk.resolve(request.alert_id, request.note)
        return pb.ResolveAlertResponse(alert=pb.Alert(**alert))

    async def WatchAlerts(self, request: pb.WatchAlertsRequest, context):
        kinds = set(request.kinds)
        async with self.broadcaster.watch() as queue:
            # Headers go out once the stream is registered: a client that awaits them
            # knows it will see every alert raised from then on.
            await context.send_initial_metadata(())
            while True:
                alert = await queue.get()
                if alert is None:
                    return
                if kinds and alert["kind"] not in kinds:
                    continue
                yield pb.WatchAlertsResponse(alert=pb.Alert(**alert))

    async def ListModerationQueue(self, request: pb.ListModerationQueueRequest, context):
        records = await self.moderation.pending(paging.page_size(request.page_size))
        return pb.ListModerationQueueResponse(items=[_moderation(r) for r in records])

    async def DecideModeration(self, request: pb.DecideModerationRequest, context):
        record = await self.moderation.decide(request.story_id, request.decision, request.note)
        return pb.DecideModerationResponse(item=_moderation(record))


def _time(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _json(value: object) -> list:
    return json.loads(value) if isinstance(value, str) else value


def _entry(r: asyncpg.Record) -> pb.FeedbackEntry:
    return pb.FeedbackEntry(
        feedback_id=r["feedback_id"],
        user_id=r["user_id"],
        story_id=r["story_id"],
        timestamp=_time(r["ts"]),
        rating=r["rating"],
        comment=r["comment"],
        categories=r["categories"],
        sentiment_score=r["sentiment_score"] or 0.0,
        child_age=r["child_age"] or 0,
        device_type=r["device_type"] or "",
        platform=r["platform"] or "",
        sentiment_label=r["sentiment_label"] or "",
        aspects=[pb.Aspect(**a) for a in _json(r["aspects"])],
        parts=[pb.CommentPart(**p) for p in _json(r["parts"])],
        analyzed=r["analyzed"],
    )


def _alert_record(r: asyncpg.Record) -> pb.Alert:
    return pb.Alert(
        alert_id=r["alert_id"],
        kind=r["kind"],
        severity=r["severity"],
        scope=r["scope"],
        subject=r["subject"],
        story_id=r["story_id"],
        message=r["message"],
        status=r["status"],
        feedback_ids=r["feedback_ids"],
        created_at=_time(r["created_at"]),
    )


def _moderation(r: asyncpg.Record) -> pb.ModerationItem:
    return pb.ModerationItem(
        story_id=r["story_id"],
        reason=r["reason"],
        status=r["status"],
        created_at=_time(r["created_at"]),
        alert_ids=r["alert_ids"],
        decision=r["decision"] or "",
        note=r["note"] or "",
        decided_at=_time(r["decided_at"]),
    )
