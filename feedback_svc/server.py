"""gRPC transport of the feedback service: protobuf in (requests.py), domain calls, protobuf out
(messages.py). No SQL and no pool here."""

from __future__ import annotations

from storyverse.feedback.v1 import feedback_service_pb2 as pb
from storyverse.feedback.v1 import feedback_service_pb2_grpc as pb_grpc

from feedback_svc import messages, requests
from feedback_svc.alerts.broadcaster import AlertBroadcaster
from feedback_svc.alerts.desk import AlertDesk
from feedback_svc.alerts.moderation import Moderation
from feedback_svc.intake import Intake
from feedback_svc.search import FeedbackReader
from feedback_svc.summary import Summaries


class FeedbackServicer(pb_grpc.FeedbackServiceServicer):
    def __init__(
        self,
        intake: Intake,
        summaries: Summaries,
        reader: FeedbackReader,
        desk: AlertDesk,
        moderation: Moderation,
        broadcaster: AlertBroadcaster,
    ) -> None:
        self.intake = intake
        self.summaries = summaries
        self.reader = reader
        self.desk = desk
        self.moderation = moderation
        self.broadcaster = broadcaster

    async def SubmitFeedback(self, request: pb.SubmitFeedbackRequest, context) -> pb.SubmitFeedbackResponse:
        return messages.submitted(await self.intake.submit(requests.submission(request)))

    async def GetFeedbackSummary(self, request: pb.GetFeedbackSummaryRequest, context):
        return messages.summary(await self.summaries.summarize(requests.summary_filters(request)))

    async def SearchFeedback(self, request: pb.SearchFeedbackRequest, context) -> pb.SearchFeedbackResponse:
        hits, token = await self.reader.search(
            requests.search_filters(request), requests.page_size(request.page_size), request.page_token
        )
        return messages.search_response(hits, token)

    async def ListAlerts(self, request: pb.ListAlertsRequest, context) -> pb.ListAlertsResponse:
        alerts = await self.desk.listing(request.status or None, requests.page_size(request.page_size))
        return pb.ListAlertsResponse(alerts=[messages.alert(a) for a in alerts])

    async def ListStoryFeedback(self, request: pb.ListStoryFeedbackRequest, context):
        entries, token = await self.reader.story_feedback(
            request.story_id, requests.page_size(request.page_size), request.page_token
        )
        return pb.ListStoryFeedbackResponse(
            feedback=[messages.entry(e) for e in entries], next_page_token=token
        )

    async def ResolveAlert(self, request: pb.ResolveAlertRequest, context) -> pb.ResolveAlertResponse:
        alert = await self.desk.resolve(request.alert_id, request.note)
        return pb.ResolveAlertResponse(alert=messages.alert(alert))

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
                yield pb.WatchAlertsResponse(alert=messages.alert(alert))

    async def ListModerationQueue(self, request: pb.ListModerationQueueRequest, context):
        items = await self.moderation.pending(requests.page_size(request.page_size))
        return pb.ListModerationQueueResponse(items=[messages.moderation_item(i) for i in items])

    async def DecideModeration(self, request: pb.DecideModerationRequest, context):
        item = await self.moderation.decide(request.story_id, request.decision, request.note)
        return pb.DecideModerationResponse(item=messages.moderation_item(item))
