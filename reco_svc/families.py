"""Between families: "stories families like yours loved".

Built only from what families chose to make public and from counts:

- a story is a candidate only when its author shared it: a `story_shared` event whose user is
  the story's creator in the catalog (another family sharing it, or a share of a story the
  catalog does not know, makes nothing public);
- a family "loved" a story when its child read it to the end (`story_completed`) or shared it;
  families like yours are those whose child is in the same age group (the event's);
- an item is shown only when at least K_FAMILIES distinct families back it, neither the
  requester nor the author (k-anonymity: no single family's reading can be told apart);
- the answer holds the story's catalog id and title (made of catalog names: universes,
  characters, theme), its ages, and the count of families: never a family's or a child's id,
  name, or anything of the story the author did not share; the usual rules hold (age group,
  moderation, not the child's own or already loved stories);
- erasure removes the user's shares and loves (reco_svc/erasure.py steps), so counts drop and
  an item falls below K_FAMILIES at once.

Fed from the bus (`analytics.events`, a consumer group of its own; rows are idempotent), from
the moment the engine runs: events stored before are not read back.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from google.protobuf.message import DecodeError
from storyverse.analytics.v1 import events_pb2

from common.bus import BusMessage, EventBus
from common.bus.inprocess import InProcessBus
from common.privacy.steps import ErasureStep, table_step
from common.privacy.tombstones import Tombstones
from reco_svc import family_store
from reco_svc.age_rules import allowed
from reco_svc.catalog import CatalogEntry, CatalogSnapshot
from reco_svc.catalog_state import CatalogState
from reco_svc.interactions import parse_ts

log = logging.getLogger(__name__)
K_FAMILIES = 5
CANDIDATES = 200
EVENTS_TOPIC = "analytics.events"
LOVED = frozenset({"story_completed", "story_shared"})
TYPE = "family_story"


@dataclass(frozen=True)
class Backed:
    """A shared story and the families (other than the requester and the sharer) that loved it."""

    story_id: str
    sharer: str
    backers: frozenset[str]


@dataclass(frozen=True)
class FamilyPick:
    entry: CatalogEntry
    families: int

    @property
    def reason(self) -> str:
        return f"loved by {self.families} families like yours"


def picks(
    candidates: Iterable[Backed],
    snapshot: CatalogSnapshot,
    requester: str,
    age_group: str,
    already: set[str],
    limit: int,
    k: int = K_FAMILIES,
) -> list[FamilyPick]:
    """The rules, applied to whatever the query returned: shared by its author, enough families,
    age-safe, visible, not the requester's own or already loved. Most backed first."""
    found: list[FamilyPick] = []
    for c in candidates:
        entry = snapshot.get("story", c.story_id)
        families = len(c.backers - {requester, c.sharer})
        if (
            entry is None
            or entry.hidden
            or not entry.creator_id
            or entry.creator_id != c.sharer
            or entry.creator_id == requester
            or c.story_id in already
            or families < k
            or not allowed(entry.min_age, entry.max_age, age_group)
        ):
            continue
        found.append(FamilyPick(entry, families))
    found.sort(key=lambda p: (-p.families, p.entry.id))
    return found[:limit]


class FamilyBoard:
    """Serves ListFamilyRecommendations and follows the events that feed it."""

    def __init__(
        self, pool: asyncpg.Pool, catalog: CatalogState, tombstones: Tombstones | None = None
    ) -> None:
        self.pool = pool
        self.catalog = catalog
        self.tombstones = tombstones
        self.closed = False
        self._subscription: tuple[EventBus, str] | None = None

    async def recommend(self, user_id: str, age_group: str, limit: int) -> list[FamilyPick]:
        rows = await family_store.backed_stories(self.pool, age_group, user_id, K_FAMILIES, CANDIDATES)
        candidates = [Backed(r["story_id"], r["sharer"], frozenset(r["backers"])) for r in rows]
        already = await family_store.loved_by(self.pool, user_id)
        return picks(candidates, self.catalog.snapshot, user_id, age_group, already, limit)

    async def totals(self) -> dict[str, int]:
        return await family_store.totals(self.pool, K_FAMILIES)

    def subscribe(self, bus: EventBus, group: str) -> None:
        """One group for the service (rows are idempotent, one replica's write is enough); in
        process a group of this engine's own (tests run several engines per process)."""
        name = f"{group}-families"
        if isinstance(bus, InProcessBus):
            name = f"{name}-{uuid.uuid4().hex[:10]}"
        bus.subscribe(EVENTS_TOPIC, name, self.on_events, from_end=isinstance(bus, InProcessBus))
        self._subscription = (bus, name)

    def close(self) -> None:
        self.closed = True
        if self._subscription is not None:
            bus, name = self._subscription
            unsubscribe = getattr(bus, "unsubscribe", None)
            if unsubscribe is not None:
                unsubscribe(EVENTS_TOPIC, name)

    async def on_events(self, messages: list[BusMessage]) -> None:
        if self.closed:
            return
        shares: list[tuple[str, str, datetime]] = []
        loves: list[tuple[str, str, str, datetime]] = []
        for message in messages:
            try:
                event = events_pb2.Event.FromString(message.value)
            except DecodeError:
                continue
            story_id = event.properties.story_id
            if event.event_type not in LOVED or not story_id:
                continue
            try:
                ts = parse_ts(event.timestamp)
            except ValueError:
                continue
            if self.tombstones is not None and self.tombstones.covers(event.user_id, ts):
                continue
            if event.event_type == "story_shared":
                shares.append((story_id, event.user_id, ts))
            loves.append((story_id, event.user_id, event.properties.age_group, ts))
        await family_store.add_shares(self.pool, shares)
        await family_store.add_loves(self.pool, loves)


def erasure_steps(pool: asyncpg.Pool) -> list[ErasureStep]:
    """A family's shares and loves."""
    return [
        table_step(pool, "reco_story_shares", "user_id = $1"),
        table_step(pool, "reco_family_loves", "user_id = $1"),
    ]
