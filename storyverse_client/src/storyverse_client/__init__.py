"""Storyverse Insights from an app or a service: events, recommendations, feedback.

    from storyverse_client import HttpTransport, Tracker
    tracker = Tracker(HttpTransport("http://127.0.0.1:8080"))
    tracker.track("story_started", user_id="user-789012", properties={"story_id": "story-123456"})

GrpcTransport (the `grpc` extra) talks to the services directly instead of the gateway.
"""

from storyverse_client.client import Client, FeedbackReceipt, RecommendationList, RecommendedItem
from storyverse_client.tracker import Tracker, TrackerStats
from storyverse_client.transport import GrpcTransport, HttpTransport, SendError

__all__ = [
    "Client",
    "FeedbackReceipt",
    "GrpcTransport",
    "HttpTransport",
    "RecommendationList",
    "RecommendedItem",
    "SendError",
    "Tracker",
    "TrackerStats",
]
