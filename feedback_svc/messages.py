"""Domain results → protobuf messages of the contract."""

from __future__ import annotations

from storyverse.feedback.v1 import feedback_service_pb2 as pb

from feedback_svc.alerts.moderation import Item
from feedback_svc.intake import Submitted
from feedback_svc.search import Entry, Hit
from feedback_svc.summary import Summary


def submitted(done: Submitted) -> pb.SubmitFeedbackResponse:
    return pb.SubmitFeedbackResponse(
        feedback_id=done.feedback_id, created=done.created, redacted=done.redacted
    )


def alert(a: dict) -> pb.Alert:
    return pb.Alert(**a)


def entry(e: Entry) -> pb.FeedbackEntry:
    return pb.FeedbackEntry(
        feedback_id=e.feedback_id,
        user_id=e.user_id,
        story_id=e.story_id,
        timestamp=e.timestamp,
        rating=e.rating,
        comment=e.comment,
        categories=e.categories,
        sentiment_score=e.sentiment_score,
        child_age=e.child_age,
        device_type=e.device_type,
        platform=e.platform,
        sentiment_label=e.sentiment_label,
        aspects=[pb.Aspect(**a) for a in e.aspects],
        parts=[pb.CommentPart(**p) for p in e.parts],
        analyzed=e.analyzed,
    )


def search_response(hits: list[Hit], token: str) -> pb.SearchFeedbackResponse:
    return pb.SearchFeedbackResponse(
        hits=[pb.SearchHit(feedback=entry(h.entry), rank=h.rank, snippet=h.snippet) for h in hits],
        next_page_token=token,
    )


def moderation_item(item: Item) -> pb.ModerationItem:
    return pb.ModerationItem(
        story_id=item.story_id,
        reason=item.reason,
        status=item.status,
        created_at=item.created_at,
        alert_ids=item.alert_ids,
        decision=item.decision,
        note=item.note,
        decided_at=item.decided_at,
    )


def summary(s: Summary) -> pb.GetFeedbackSummaryResponse:
    return pb.GetFeedbackSummaryResponse(
        count=s.count,
        average_rating=s.average_rating,
        rating_distribution=s.rating_distribution,
        average_sentiment=s.average_sentiment,
        sentiment_distribution=s.sentiment_distribution,
        top_problems=[pb.ProblemCount(aspect=a, negative=n, positive=p) for a, n, p in s.top_problems],
        satisfaction_trend=[
            pb.SatisfactionPoint(
                date=t.date,
                age_group=t.age_group,
                platform=t.platform,
                count=t.count,
                average_rating=t.average_rating,
                average_sentiment=t.average_sentiment,
                sentiment_count=t.sentiment_count,
            )
            for t in s.trend
        ],
        open_alerts=[alert(a) for a in s.open_alerts],
        quality=[
            pb.QualityScore(
                scope=q.scope, key=q.key, score=q.score, bayesian_rating=q.bayesian_rating, ratings=q.ratings
            )
            for q in s.quality
        ],
        suggestions=s.suggestions,
    )
