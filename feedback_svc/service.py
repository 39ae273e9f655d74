"""Wiring of the feedback service.

    SPEC                                         # the default: the ONNX model (fails without it)
    spec(scorer_factory=MyScorer, rules=...)     # another SentimentScorer, other alert thresholds

`settings.extra["sentiment_scorer"] = "module:Factory"` also picks the scorer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from storyverse.feedback.v1 import feedback_service_pb2, feedback_service_pb2_grpc

from common.grpc_server import Runtime, ServiceSpec
from common.interceptors import CallObserver
from common.privacy.participant import ErasureParticipant
from feedback_svc.accuracy import SentimentAccuracy
from feedback_svc.alerts.broadcaster import AlertBroadcaster
from feedback_svc.alerts.desk import AlertDesk, AlertRules
from feedback_svc.alerts.moderation import Moderation
from feedback_svc.analysis import SUBMITTED_TOPIC, Analyzer
from feedback_svc.erasure import erasure_steps
from feedback_svc.group_commit import SubmissionWriter
from feedback_svc.intake import Intake
from feedback_svc.publisher import BatchPublisher
from feedback_svc.search import FeedbackReader
from feedback_svc.sentiment.scoring import SentimentScorer, load_scorer, model_dir_of
from feedback_svc.server import FeedbackServicer
from feedback_svc.summary import Summaries

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = feedback_service_pb2.DESCRIPTOR.services_by_name["FeedbackService"].full_name


@dataclass
class FeedbackComponent:
    analyzer: Analyzer
    broadcaster: AlertBroadcaster
    publisher: BatchPublisher
    writer: SubmissionWriter
    privacy: ErasureParticipant
    accuracy: SentimentAccuracy | None = None
    service_names: list[str] = field(default_factory=lambda: [SERVICE_NAME])
    observers: tuple[CallObserver, ...] = ()

    async def aclose(self) -> None:
        await self.privacy.aclose()
        if self.accuracy is not None:
            await self.accuracy.aclose()
        self.broadcaster.close()
        await self.writer.aclose()
        await self.publisher.aclose()
        await self.analyzer.aclose()


def spec(
    scorer_factory: Callable[[], SentimentScorer] | None = None, rules: AlertRules | None = None
) -> ServiceSpec:
    async def build(server: grpc.aio.Server, runtime: Runtime) -> FeedbackComponent:
        scorer = scorer_factory() if scorer_factory else load_scorer(runtime.settings)
        # The shipped model's evaluation and moderators' verdicts as a metric (accuracy.py).
        model_dir = None if scorer_factory else model_dir_of(runtime.settings)
        accuracy = SentimentAccuracy(runtime.pool, model_dir) if model_dir else None
        if accuracy is not None:
            accuracy.start()
        desk = AlertDesk(runtime.pool, runtime.bus, rules)
        analyzer = Analyzer(runtime.pool, scorer, desk)
        analyzer.subscribe(runtime.bus)
        analyzer.start_sweeper()
        broadcaster = AlertBroadcaster()
        broadcaster.subscribe(runtime.bus)
        publisher = BatchPublisher(runtime.bus, SUBMITTED_TOPIC)
        publisher.start()
        writer = SubmissionWriter(runtime.pool)
        # Right to erasure (docs/security.md): the feedback table, and feedback still in flight.
        privacy = ErasureParticipant(runtime.pool, runtime.bus, runtime.settings, "feedback")
        privacy.add(steps=erasure_steps(runtime.pool))
        intake = Intake(writer, publisher, privacy.tombstones)
        moderation = Moderation(runtime.pool, runtime.bus, accuracy.refresh if accuracy else None)
        servicer = FeedbackServicer(
            intake, Summaries(runtime.pool), FeedbackReader(runtime.pool), desk, moderation, broadcaster
        )
        feedback_service_pb2_grpc.add_FeedbackServiceServicer_to_server(servicer, server)
        await privacy.start()
        return FeedbackComponent(analyzer, broadcaster, publisher, writer, privacy, accuracy)

    return ServiceSpec("feedback", build, migrations=[("feedback", MIGRATIONS)])


SPEC = spec()
