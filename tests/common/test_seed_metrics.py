"""The seed's nine monitoring metrics, recorded by the code that does the work.

The three services run as `python -m system.services` (one process, as on a laptop)
with their Prometheus endpoint on SV_METRICS_PORT. The test only makes real calls (events,
a training run, recommendations, feedback, moderation decisions) and then reads /metrics:
nothing in this process sets an instrument.

| seed metric | series |
|---|---|
| event ingestion rate | storyverse_events_ingested_total |
| processing latency | storyverse_bus_processing_latency_seconds |
| storage utilization | storyverse_storage_bytes |
| recommendation requests | storyverse_reco_requests_total |
| inference latency | storyverse_reco_inference_duration_seconds |
| model accuracy | storyverse_reco_model_accuracy |
| feedback submission rate | storyverse_feedback_submitted_total |
| sentiment analysis accuracy | storyverse_feedback_sentiment_accuracy |
| processing time | storyverse_feedback_processing_duration_seconds, rpc_server_duration_seconds |
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import grpc
from storyverse.analytics.v1 import analytics_service_pb2 as apb
from storyverse.analytics.v1 import analytics_service_pb2_grpc as apb_grpc
from storyverse.analytics.v1 import events_pb2
from storyverse.feedback.v1 import feedback_service_pb2 as fpb
from storyverse.feedback.v1 import feedback_service_pb2_grpc as fpb_grpc
from storyverse.recommendation.v1 import recommendation_service_pb2 as rpb
from storyverse.recommendation.v1 import recommendation_service_pb2_grpc as rpb_grpc

from common.settings import REPO_ROOT
from feedback_svc.sentiment.model import DEFAULT_MODEL_DIR
from tests.conftest import free_port, fresh_database, service_env, stop, wait_serving
from tests.reco.test_artifacts_across_processes import database, eventually, run, samples

UNIVERSES = {
    "dragon-ball": ["goku", "vegeta", "bulma"],
    "toy-story": ["woody", "buzz", "jessie"],
    "enchanted-forest": ["fairy-fern", "owl-oakley"],
    "dino-valley": ["tiny-trike", "gentle-rex"],
}
FRIGHTENED = "The witch scene was terrifying, my 4 year old had nightmares all week."


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stories_of_children(children: int) -> list[events_pb2.Event]:
    rng = random.Random(5)
    events = []
    for n in range(children):
        favourites = rng.sample(sorted(UNIVERSES), 2)
        for _ in range(3):
            universe = rng.choice(favourites)
            props = events_pb2.EventProperties(
                story_id=f"story-{uuid.uuid4().hex[:10]}",
                universes=[universe],
                characters=rng.sample(UNIVERSES[universe], 2),
                theme="friendship",
                age_group="6-8",
                device_type="tablet",
            )
            events.append(
                events_pb2.Event(
                    event_id=f"evt-{uuid.uuid4().hex}",
                    user_id=f"child-{n}",
                    timestamp=now(),
                    event_type="story_creation",
                    properties=props,
                )
            )
    return events


def total(found: dict, name: str, **labels: str) -> float:
    """The sum of the samples `name` whose labels include `labels`."""
    return sum(v for (n, ls), v in found.items() if n == name and labels.items() <= dict(ls).items())


def one(found: dict, name: str, **labels: str) -> float:
    """The value of the one sample `name` whose labels include `labels`."""
    values = [v for (n, ls), v in found.items() if n == name and labels.items() <= dict(ls).items()]
    assert len(values) == 1, (name, labels, values)
    return values[0]


def test_the_nine_monitoring_metrics_are_recorded_where_the_work_happens(settings, tmp_path):
    ports = {name: free_port() for name in ("analytics", "reco", "feedback", "metrics")}
    with fresh_database(settings, "metrics") as url:
        env = service_env(
            replace(settings, database_url=url),
            data_dir=tmp_path,
            storage_sample_seconds=1,
            reco_model_poll_seconds=1,
            **{f"{name}_port": port for name, port in ports.items()},
        )
        log = (tmp_path / "services.log").open("wb")
        services = subprocess.Popen(
            [sys.executable, "-m", "system.services"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            for name in ("analytics", "reco", "feedback"):
                wait_serving(f"127.0.0.1:{ports[name]}", timeout=90)
            analytics = apb_grpc.AnalyticsServiceStub(
                grpc.insecure_channel(f"127.0.0.1:{ports['analytics']}")
            )
            reco = rpb_grpc.RecommendationServiceStub(grpc.insecure_channel(f"127.0.0.1:{ports['reco']}"))
            feedback = fpb_grpc.FeedbackServiceStub(grpc.insecure_channel(f"127.0.0.1:{ports['feedback']}"))

            events = stories_of_children(30)
            reply = analytics.RecordEvents(apb.RecordEventsRequest(events=events), timeout=30)
            assert reply.result.accepted == len(events)
            # The engine trains from its own copy, kept from the bus.
            kept = "SELECT count(*) FROM reco_interactions"
            eventually(lambda: database(url, kept) == len(events))

            version = run("reco_svc.train", env).strip().splitlines()[-1]
            registry = json.loads(
                database(url, "SELECT metrics FROM reco_model_versions WHERE version = $1", version)
            )
            ndcg = registry["collaborative_ndcg@10"]
            request = rpb.RecommendRequest(
                user_id="child-1",
                context=rpb.RecommendationContext(age_group="6-8", selected_universes=["toy-story"]),
                recommendation_types=["universe", "character"],
            )
            eventually(lambda: reco.Recommend(request, timeout=10).lists[0].model_version == version)

            for decision in ("keep_hidden", "clear"):
                story = f"story-{uuid.uuid4().hex[:10]}"
                entry = fpb.FeedbackEntry(
                    feedback_id=f"fb-{uuid.uuid4().hex[:12]}",
                    user_id="parent-1",
                    story_id=story,
                    timestamp=now(),
                    rating=1,
                    comment=FRIGHTENED,
                    categories=["scary_content"],
                    child_age=4,
                )
                assert feedback.SubmitFeedback(fpb.SubmitFeedbackRequest(feedback=entry), timeout=10).created

                def queued(story=story) -> bool:
                    queue = feedback.ListModerationQueue(fpb.ListModerationQueueRequest(), timeout=10)
                    return any(item.story_id == story for item in queue.items)

                eventually(queued)
                feedback.DecideModeration(
                    fpb.DecideModerationRequest(story_id=story, decision=decision), timeout=10
                )

            # The served scorer's evaluation, as `feedback_svc.offline.evaluate --record` wrote it.
            evaluated = json.loads((DEFAULT_MODEL_DIR / "comment_weights.json").read_text())["evaluated"]
            deadline = time.monotonic() + 15
            while True:  # the storage sampler runs every second; the bus latency after a handled batch
                found = samples(ports["metrics"])
                try:
                    assert one(found, "storyverse_storage_bytes", table="events") > 0
                    # One series per group that follows the topic (the engine's, the feedback service's).
                    assert (
                        total(
                            found, "storyverse_bus_processing_latency_seconds_count", topic="analytics.events"
                        )
                        >= 1
                    )
                    break
                except AssertionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)

            # Usage analytics
            assert one(found, "storyverse_events_ingested_total", outcome="accepted") == len(events)
            # Recommendation engine
            assert one(found, "storyverse_reco_requests_total", method="Recommend", code="OK") >= 1
            assert one(found, "storyverse_reco_inference_duration_seconds_count", model=version) >= 1
            assert one(found, "storyverse_reco_inference_duration_seconds_sum", model=version) > 0
            accuracy = one(
                found, "storyverse_reco_model_accuracy", model=version, metric="collaborative_ndcg@10"
            )
            assert accuracy == ndcg
            # Feedback processing
            assert one(found, "storyverse_feedback_submitted_total", code="OK") == 2
            for source in ("sst2_dev", "parent_comments"):
                expected = evaluated[source]["accuracy"]
                assert one(found, "storyverse_feedback_sentiment_accuracy", source=source) == expected
            # One story kept hidden (the analysis was right), one cleared (it was not).
            assert one(found, "storyverse_feedback_sentiment_accuracy", source="moderation") == 0.5
            assert one(found, "storyverse_feedback_processing_duration_seconds_count") >= 2
            submitted = "/storyverse.feedback.v1.FeedbackService/SubmitFeedback"
            assert one(found, "rpc_server_duration_seconds_count", rpc_method=submitted, code="OK") == 2
        finally:
            stop(services)
