"""Each user's features (user.py) kept in a FeatureStore (base.py), so replicas can share them.

    features = SharedFeatures(create_feature_store(settings, limits))   # Redis when SV_REDIS_URL
    await features.add(facts, interactions)      # live event → the user's recent list (LPUSH)
    await features.put("user-1", loaded)         # history read from PostgreSQL → a cached blob
    await features.get("user-1")                 # both merged, deduplicated by event id

Two keys per user, both in the store (Redis: one list and one string):
- `recent:reco:<user>`: live events, newest first, capped at MAX_EVENTS_PER_USER. A
  redelivered event is pushed again and ignored on read (UserFeatures.add keys by event id).
- `cache:reco:history:<user>`: the history read from PostgreSQL on first sight, for
  HISTORY_TTL; when it expires the next request reads it again.

Each process keeps the features it last decoded per user with the stored values they came from
(Decoded): a read whose values are unchanged skips the JSON decoding; any change is a miss.

`degraded` is true while the Redis breaker is open: serving then answers from popularity
and the request's own picks instead of reading every user's history from PostgreSQL on
every call (the in-process fallback would not keep it across pods).

Erasure (reco_svc/erasure.py): `erase` removes both keys for good (a step of the erasure
job, retried until Redis confirms), `forget_local` what this process holds; until then, and
for data of the user still in flight, reads and writes leave out everything from before the
user's erasure (the tombstones).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import datetime

from common.privacy.tombstones import Tombstones
from reco_svc.features.base import FeatureLimits, FeatureStore
from reco_svc.features.user import MAX_EVENTS_PER_USER, UserFeatures
from reco_svc.interactions import EventFacts, Interaction

HISTORY_TTL = 6 * 3600.0
RECENT_TTL = 180 * 86400.0  # HISTORY_DAYS: older interactions weigh nothing


def limits() -> FeatureLimits:
    return FeatureLimits(recent_keep=MAX_EVENTS_PER_USER, recent_ttl=RECENT_TTL)


class SharedFeatures:
    def __init__(self, store: FeatureStore, tombstones: Tombstones | None = None) -> None:
        self.store = store
        self.tombstones = tombstones
        self.decoded = Decoded()

    def erased_at(self, user_id: str) -> datetime | None:
        return self.tombstones.erased_at(user_id) if self.tombstones else None

    @property
    def degraded(self) -> bool:
        guard = getattr(self.store, "guard", None)
        return guard is not None and guard.breaker.is_open

    async def get(self, user_id: str) -> UserFeatures | None:
        """The user's features; callers read them and never change them (they may be shared
        with the next call: see Decoded)."""
        live = await self.store.recent(_recent(user_id), MAX_EVENTS_PER_USER)
        history = await self.store.get(_history(user_id))
        if history is None and not live:
            return None
        features = self.decoded.get(user_id, history, live)
        if features is None:
            features = _decoded(user_id, history, live)
            self.decoded.put(user_id, history, live, features)
        erased_at = self.erased_at(user_id)
        return features if erased_at is None else features.after(erased_at)

    async def put(self, user_id: str, features: UserFeatures) -> None:
        erased_at = self.erased_at(user_id)
        if erased_at is not None:
            features = features.after(erased_at)
        blob = {
            "a": features.age_group,
            "d": features.device_type,
            "t": features.last_ts.isoformat() if features.last_ts else "",
            "events": [
                _entry(event_id, interactions)
                for event_id, interactions in features.events.items()
                if interactions  # an event without interactions adds nothing but its profile (above)
            ],
        }
        await self.store.set(_history(user_id), json.dumps(blob).encode(), HISTORY_TTL)

    async def add(self, facts: EventFacts, interactions: list[Interaction]) -> None:
        payload = {
            "e": facts.event_id,
            "t": facts.ts.isoformat(),
            "a": facts.age_group,
            "d": facts.device_type,
            "i": [_interaction(i) for i in interactions],
        }
        await self.store.push_recent(_recent(facts.user_id), json.dumps(payload, separators=(",", ":")))

    async def erase(self, user_id: str) -> int:
        """Erasure: the live list and the cached history go from the store (Redis: for every
        replica); raises when that is not confirmed. The number of keys that existed."""
        self.decoded.forget(user_id)
        return await self.store.erase([_recent(user_id)], [_history(user_id)])

    async def forget_local(self, user_id: str) -> None:
        """Erasure, in this process: the in-process store, or Redis's in-process fallback and
        the writes it keeps for Redis."""
        self.decoded.forget(user_id)
        await self.store.forget_local([_recent(user_id)], [_history(user_id)])

    async def aclose(self) -> None:
        await self.store.aclose()


class Decoded:
    """The last features decoded per user, with the stored values they came from: a request
    whose user's stored values are unchanged (equal bytes, equal list) reuses them instead of
    decoding the JSON again. Any change in the store (a live event, a new history) is a
    different key, so nothing is ever served stale. Bounded in events held (a user keeps up to
    MAX_EVENTS_PER_USER), least recently used out."""

    MAX_EVENTS = 100_000  # a few hundred bytes each, decoded

    def __init__(self) -> None:
        self._found: OrderedDict[str, tuple[bytes | None, list[str], UserFeatures]] = OrderedDict()
        self.events = 0

    def get(self, user_id: str, history: bytes | None, live: list[str]) -> UserFeatures | None:
        found = self._found.get(user_id)
        if found is None or found[0] != history or found[1] != live:
            return None
        self._found.move_to_end(user_id)
        return found[2]

    def put(self, user_id: str, history: bytes | None, live: list[str], features: UserFeatures) -> None:
        self.forget(user_id)
        self._found[user_id] = (history, list(live), features)
        self.events += len(features.events)
        while self.events > self.MAX_EVENTS and self._found:
            self.events -= len(self._found.popitem(last=False)[1][2].events)

    def forget(self, user_id: str) -> None:
        found = self._found.pop(user_id, None)
        if found is not None:
            self.events -= len(found[2].events)


def _decoded(user_id: str, history: bytes | None, live: list[str]) -> UserFeatures:
    """The cached history (if any) and the live events, oldest first, merged by event id."""
    features = UserFeatures(loaded=history is not None)
    if history is not None:
        blob = json.loads(history)
        features.age_group, features.device_type = blob["a"], blob["d"]
        features.last_ts = datetime.fromisoformat(blob["t"]) if blob["t"] else None
        for entry in blob["events"]:
            features.add(*_decode(entry, user_id))
    for raw in reversed(live):  # oldest first, as they happened
        features.add(*_decode(raw, user_id))
    return features


def _recent(user_id: str) -> str:
    return f"reco:{user_id}"


def _history(user_id: str) -> str:
    return f"reco:history:{user_id}"


def _entry(event_id: str, interactions: tuple[Interaction, ...]) -> dict:
    return {
        "e": event_id,
        "t": interactions[0].ts.isoformat(),
        "a": "",
        "d": "",
        "i": [_interaction(i) for i in interactions],
    }


def _interaction(i: Interaction) -> list:
    """[key, weight, event type] and, for a reading signal, [.., signal, position]."""
    found = [i.key, i.weight, i.event_type]
    return [*found, i.signal, i.position] if i.signal else found


def _decode(raw: str | dict, user_id: str) -> tuple[EventFacts, list[Interaction]]:
    data = json.loads(raw) if isinstance(raw, str) else raw
    ts = datetime.fromisoformat(data["t"])
    facts = EventFacts(data["e"], user_id, "", ts, age_group=data["a"], device_type=data["d"])
    interactions = [Interaction(user_id, *entry[:2], ts, data["e"], *entry[2:]) for entry in data["i"]]
    return facts, interactions
