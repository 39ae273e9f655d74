"""Story metadata from the bus: the feedback service's own copy (table story_meta) of each
story's universes, characters and theme, for quality by universe, character, theme and
universe combination (quality.py) and the rating-drop alerts per combination.

It follows `analytics.events` (Event protobuf bytes, as the analytics service publishes them)
in a consumer group of the service's own, and keeps the story_creation events. Delivery is at
least once and the upsert keeps the earliest creation of a story, so a replay changes nothing.
Events of users erased since are dropped (the tombstones): a child's own stories are the
child's data, and the erasure step `story_meta` removes those already stored (erasure.py).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import asyncpg
from google.protobuf.message import DecodeError
from storyverse.analytics.v1 import events_pb2

from common import metrics
from common.bus import BusMessage, EventBus
from common.privacy.tombstones import Tombstones
from common.validation import parse_rfc3339
from feedback_svc import store

log = logging.getLogger(__name__)
EVENTS_TOPIC = "analytics.events"
CONSUMER_GROUP = "feedback-stories"


def combination_of(universes: list[str]) -> str | None:
    distinct = sorted(set(universes))
    return "+".join(distinct) if len(distinct) >= 2 else None


def story_of(event: events_pb2.Event) -> store.StoryRow | None:
    """The metadata a story_creation event carries; None for any other event."""
    if event.event_type != "story_creation":
        return None
    props = event.properties
    story_id = props.story_id
    if not story_id:
        return None
    universes = list(props.universes)
    return store.StoryRow(
        story_id=story_id,
        universes=universes,
        characters=list(props.characters),
        theme=props.theme or None,
        combination=combination_of(universes),
        creator_id=event.user_id,
        # Events on the bus passed the contract's rules: the timestamp is RFC 3339.
        created_ts=parse_rfc3339(event.timestamp) or datetime.now(UTC),
    )


class StoryFollower:
    def __init__(self, pool: asyncpg.Pool, tombstones: Tombstones | None = None) -> None:
        self.pool = pool
        self.tombstones = tombstones

    def subscribe(self, bus: EventBus) -> None:
        # One group for the service (its replicas share the work), from the start of the topic.
        bus.subscribe(EVENTS_TOPIC, CONSUMER_GROUP, self.handle)

    async def handle(self, messages: list[BusMessage]) -> None:
        stories: dict[str, store.StoryRow] = {}
        for message in messages:
            try:
                event = events_pb2.Event.FromString(message.value)
            except DecodeError:
                log.warning("undecodable event on the bus", extra={"fields": {"key": str(message.key)}})
                continue
            story = story_of(event)
            if story is None:
                continue
            if self.tombstones and self.tombstones.covers(
                story.creator_id, story.created_ts, _received_at(message)
            ):
                continue
            known = stories.get(story.story_id)
            if known is None or story.created_ts < known.created_ts:
                stories[story.story_id] = story
        await store.upsert_story_meta(self.pool, list(stories.values()))

    def _erased(self, story: store.StoryRow, received_at: datetime | None) -> bool:
        if not (self.tombstones and self.tombstones.covers(story.creator_id, story.created_ts, received_at)):
            return False
        metrics.ERASURE_DROPPED.add(1, {"where": "feedback story metadata"})
        return True


def _received_at(message: BusMessage) -> datetime | None:
    raw = message.headers.get("received_at")
    return datetime.fromisoformat(raw.decode()) if raw else None
