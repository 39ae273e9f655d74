"""Live follow of the bus: analytics events update features and stories; visibility changes the catalog.

- `analytics.events` (Event protobuf bytes, recorder.py): every interaction goes to the
  feature store at once, so the user's next answer reflects it without retraining; a
  story_creation also adds its story to the catalog.
- `feedback.submitted` (the feedback service's rating row, after commit): a rating of 3 stars or
  more is an interaction with the story (interactions.py).

The same topics also fill the engine's own tables, in consumer groups of their own (one per
service, from the start of the topic): `reco_interactions` (interaction events and ratings)
and `reco_user_age_groups`, which training, the bootstrap model and a user's history read,
and `hidden_items` from `catalog.visibility`. The engine reads no other service's table.
- `catalog.visibility` (the feedback service, when a safety alert hides or a moderator
  clears a story; another engine replica's Hide/UnhideCatalogItem): the change is applied to
  the snapshot at once; an unknown payload makes the catalog reload from PostgreSQL
  (hidden_items, the source of truth), as does the poll.

Handlers are idempotent (features are keyed by event id; story upserts are upserts), as the
bus delivers at least once. Events and ratings of users erased since are skipped (the
tombstones, common/privacy/tombstones.py): they were in flight during the erasure.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime

import asyncpg
from google.protobuf.message import DecodeError
from storyverse.analytics.v1 import events_pb2

from common import metrics
from common.bus import BusMessage, EventBus
from common.bus.inprocess import InProcessBus
from common.privacy.tombstones import Tombstones
from reco_svc import store
from reco_svc.catalog_state import CatalogState
from reco_svc.features.shared import SharedFeatures
from reco_svc.interactions import INTERACTION_EVENT_TYPES, RATED, EventFacts, created_story, interactions_of

log = logging.getLogger(__name__)
EVENTS_TOPIC = "analytics.events"
VISIBILITY_TOPIC = "catalog.visibility"
RATINGS_TOPIC = "feedback.submitted"
GROUP = "recommendation"


class LiveFollower:
    def __init__(
        self,
        pool: asyncpg.Pool,
        features: SharedFeatures,
        catalog: CatalogState,
        tombstones: Tombstones | None = None,
    ) -> None:
        self.pool = pool
        self.features = features
        self.catalog = catalog
        self.tombstones = tombstones
        self.closed = False
        # Interaction events and ratings handled so far: the bootstrap model's cue to refresh.
        self.interactions_seen = 0

    def subscribe(self, bus: EventBus, group: str = GROUP, shared_features: bool = False) -> None:
        """Follow both topics. Which consumer group each replica uses (docs/architecture.md):

        - analytics.events: the service's group, shared by its replicas (each event handled
          once, by one of them), when features are in Redis; without Redis every replica
          needs every event for its own memory, so a group of its own, starting at the end.
        - feedback.submitted: like analytics.events, in groups of their own ("-ratings").
        - catalog.visibility: always a group per replica: each holds its own catalog snapshot.
        """
        replica = f"{group}-{uuid.uuid4().hex[:10]}"
        in_process = isinstance(bus, InProcessBus)
        if in_process:
            # In process a group only separates subscribers (one handler per (topic, group)):
            # each engine of the process (tests run several) gets its own.
            events_group = visibility_group = replica
        else:
            events_group = group if shared_features else replica
            visibility_group = f"{replica}-visibility"
        own = events_group == replica  # a replica's own group: from now on (history is in PostgreSQL)
        ratings_group = f"{events_group}-ratings"
        # The engine's own tables (the keep_* handlers): one group for the service, from the
        # start of the topic, so nothing is missed while no replica runs; in process, per engine.
        keeper = replica if in_process else group
        self._subscriptions = [
            (bus, EVENTS_TOPIC, events_group),
            (bus, RATINGS_TOPIC, ratings_group),
            (bus, VISIBILITY_TOPIC, visibility_group),
            (bus, EVENTS_TOPIC, f"{keeper}-history"),
            (bus, RATINGS_TOPIC, f"{keeper}-history-ratings"),
            (bus, VISIBILITY_TOPIC, f"{keeper}-hidden"),
        ]
        bus.subscribe(EVENTS_TOPIC, events_group, self.on_events, from_end=own)
        bus.subscribe(RATINGS_TOPIC, ratings_group, self.on_ratings, from_end=own)
        bus.subscribe(VISIBILITY_TOPIC, visibility_group, self.on_visibility, from_end=not in_process)
        bus.subscribe(EVENTS_TOPIC, f"{keeper}-history", self.keep_events)
        bus.subscribe(RATINGS_TOPIC, f"{keeper}-history-ratings", self.keep_ratings)
        bus.subscribe(VISIBILITY_TOPIC, f"{keeper}-hidden", self.keep_visibility)

    def close(self) -> None:
        """Stop acting on deliveries and leave the groups."""
        self.closed = True
        for bus, topic, group in getattr(self, "_subscriptions", []):
            unsubscribe = getattr(bus, "unsubscribe", None)
            if unsubscribe is not None:
                unsubscribe(topic, group)

    async def on_events(self, messages: list[BusMessage]) -> None:
        if self.closed:
            return
        stories = {}
        for message in messages:
            try:
                event = events_pb2.Event.FromString(message.value)
            except DecodeError:
                log.warning("undecodable event on the bus", extra={"fields": {"key": str(message.key)}})
                continue
            if event.event_type not in INTERACTION_EVENT_TYPES:
                continue
            try:
                facts = EventFacts.from_proto(event)
            except ValueError:
                continue
            if self._erased(facts, _received_at(message)):
                continue
            await self.features.add(facts, interactions_of(facts))
            self.interactions_seen += 1
            if (story := created_story(facts, self.catalog.snapshot)) is not None:
                stories[story.id] = story
        new = [s for s in stories.values() if self.catalog.snapshot.get("story", s.id) is None]
        if new:
            await store.upsert_stories(self.pool, new)
            self.catalog.put_many(new)

    async def on_ratings(self, messages: list[BusMessage]) -> None:
        """The feedback service's payload: the rating row (feedback_id, user_id, story_id, ts,
        rating, age_group, device_type)."""
        if self.closed:
            return
        for facts in _ratings(messages):
            if not self._erased(facts, None):
                await self.features.add(facts, interactions_of(facts))
                self.interactions_seen += 1

    # --- the engine's own tables: what it trains and bootstraps from, what is hidden ---------

    async def keep_events(self, messages: list[BusMessage]) -> None:
        """Interaction events into reco_interactions, users' latest age groups into
        reco_user_age_groups (idempotent: keyed by event id; an age group only moves forward)."""
        kept: list[EventFacts] = []
        ages: dict[str, tuple[str, datetime]] = {}
        for message in messages:
            try:
                facts = EventFacts.from_proto(events_pb2.Event.FromString(message.value))
            except (DecodeError, ValueError):
                continue
            if self._erased(facts, _received_at(message)):
                continue
            if facts.age_group and (facts.user_id not in ages or ages[facts.user_id][1] < facts.ts):
                ages[facts.user_id] = (facts.age_group, facts.ts)
            if facts.event_type in INTERACTION_EVENT_TYPES:
                kept.append(facts)
        await store.record_interactions(self.pool, kept)
        await store.record_age_groups(self.pool, ages)

    async def keep_ratings(self, messages: list[BusMessage]) -> None:
        await store.record_interactions(
            self.pool, [facts for facts in _ratings(messages) if not self._erased(facts, None)]
        )

    async def keep_visibility(self, messages: list[BusMessage]) -> None:
        """hidden_items, the record every replica's catalog reloads from (set twice = set once)."""
        for message in messages:
            try:
                change = json.loads(message.value)
                kind, item_id, hidden = change["item_type"], change["item_id"], bool(change["hidden"])
            except (ValueError, KeyError, TypeError):
                log.warning("undecodable visibility message", extra={"fields": {"key": str(message.key)}})
                continue
            if hidden:
                await store.hide(self.pool, kind, item_id, str(change.get("reason", "")) or "feedback")
            else:
                await store.unhide(self.pool, kind, item_id)

    def _erased(self, facts: EventFacts, received_at: datetime | None) -> bool:
        if not (self.tombstones and self.tombstones.covers(facts.user_id, facts.ts, received_at)):
            return False
        metrics.ERASURE_DROPPED.add(1, {"where": "recommendation live"})
        return True

    async def on_visibility(self, messages: list[BusMessage]) -> None:
        """The feedback service's payload: {"item_type", "item_id", "hidden", "reason", "at"}.

        Applied to the snapshot at once; anything else makes the catalog reload from PostgreSQL.
        """
        if self.closed:
            return
        unknown = False
        for message in messages:
            try:
                change = json.loads(message.value)
                kind, item_id, hidden = change["item_type"], change["item_id"], bool(change["hidden"])
            except (ValueError, KeyError, TypeError):
                unknown = True
                continue
            self.catalog.set_hidden(kind, item_id, hidden, str(change.get("reason", "")))
        if unknown:
            await self.catalog.reload()


def _ratings(messages: list[BusMessage]) -> list[EventFacts]:
    """The ratings in a batch of feedback.submitted messages (malformed ones logged, skipped)."""
    found = []
    for message in messages:
        try:
            row = json.loads(message.value)
            found.append(
                EventFacts(
                    event_id=str(row["feedback_id"]),
                    user_id=str(row["user_id"]),
                    event_type=RATED,
                    ts=datetime.fromisoformat(row["ts"]),
                    story_id=str(row["story_id"]),
                    age_group=row.get("age_group") or "",
                    device_type=row.get("device_type") or "",
                    rating=int(row["rating"]),
                )
            )
        except (ValueError, KeyError, TypeError):
            log.warning(
                "undecodable feedback message on the bus", extra={"fields": {"key": str(message.key)}}
            )
    return found


def _received_at(message: BusMessage) -> datetime | None:
    raw = message.headers.get("received_at")
    return datetime.fromisoformat(raw.decode()) if raw else None
