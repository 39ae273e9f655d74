"""Events for tests: the seed's example, and builders around it."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime

from google.protobuf import json_format
from storyverse.analytics.v1 import events_pb2

SEED_EVENT = {
    "event_id": "evt-123456",
    "user_id": "user-789012",
    "timestamp": "2025-03-20T14:30:00Z",
    "event_type": "story_creation",
    "properties": {
        "story_id": "story-123456",
        "universes": ["dragon-ball", "toy-story"],
        "characters": ["goku", "woody", "buzz"],
        "theme": "friendship",
        "moral_lesson": "teamwork",
        "creation_time": 450,
        "device_type": "tablet",
        "platform": "ios",
    },
    "session_id": "session-345678",
}


def event_dict(**changes: object) -> dict:
    data = copy.deepcopy(SEED_EVENT)
    data["event_id"] = f"evt-{uuid.uuid4().hex}"
    data["timestamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def event(**changes: object) -> events_pb2.Event:
    return json_format.Parse(json.dumps(event_dict(**changes)), events_pb2.Event())
