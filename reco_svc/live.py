"""Live follow of the bus: analytics events update features and stories; visibility changes the catalog.

- `analytics.events` (Event protobuf bytes, recorder.py): every interaction goes to the
  feature store at once, so the user's next answer reflects it without retraining; a
  story_creation also adds its story to the catalog.
- `catalog.visibility` (the feedback service, when a safety alert hides or a moderator
  clears a story): the change is applied to the snapshot at once; an unknown payload makes
  the catalog reload from PostgreSQL (hidden_items, the source of truth), as does the poll.

Handlers are idempotent (features are keyed by event id; story upserts are upserts), as the
bus delivers at least once.
"""

from __future__ import annotations

import json
import logging

import asyncpg
from google.protobuf.message import DecodeError
from storyverse.analytics.v1 import events_pb2

from common.bus import BusMessage, EventBus
from common.bus.inprocess import InProcessBus
from reco_svc import store
from reco_svc.catalog import story_from_event
from reco_svc.catalog_state import CatalogState
from reco_svc.features import FeatureStore
from reco_svc.interactions import INTERACTION_EVENT_TYPES, EventFacts, interactions_of

log = logging.getLogger(__name__)
EVENTS_TOPIC = "analytics.events"
VISIBILITY_TOPIC = "catalog.visibility"
GROUP = "recommendation"


class LiveFollower:
    def __init__(self, pool: asyncpg.Pool, features: FeatureStore, catalog: CatalogState) -> None:
        self.pool = pool
        self.features = features
        self.catalog = catalog
        self.closed = False

    def subscribe(self, bus: EventBus, group: str = GROUP) -> None:
        if isinstance(bus, InProcessBus):
            # The bus has no unsubscribe and one handler per (topic, group): a second engine in
            # the same process (tests) would take over the first one's deliveries. In process,
            # groups only separate subscribers, so each engine gets its own.
            group = f"{group}-{id(self):x}"
        bus.subscribe(EVENTS_TOPIC, group, self.on_events)
        bus.subscribe(VISIBILITY_TOPIC, group, self.on_visibility)

    def close(self) -> None:
        """Stop acting on deliveries (they keep coming: the bus cannot unsubscribe)."""
        self.closed = True

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
            await self.features.add(facts, interactions_of(facts))
            if facts.event_type == "story_creation" and facts.story_id:
                stories[facts.story_id] = story_from_event(
                    facts.story_id,
                    facts.user_id,
                    facts.universes,
                    facts.characters,
                    facts.theme,
                    facts.moral_lesson,
                    facts.age_group,
                    self.catalog.snapshot,
                )
        new = [s for s in stories.values() if self.catalog.snapshot.get("story", s.id) is None]
        if new:
            await store.upsert_stories(self.pool, new)
            self.catalog.put_many(new)

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
