"""The catalog in memory: every item with its ages, tags, universe(s) and moderation state.

    snapshot = CatalogSnapshot.from_entries(entries)
    snapshot.get("character", "goku").universes     # ("dragon-ball",)

Loaded from PostgreSQL (store.py) and kept fresh by catalog_state.py. The demo catalog
shipped with the simulator (simulator/catalog.json, or SV_RECO_CATALOG) is parsed here and
upserted at start; stories are derived from story_creation events (`story_from_event`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from reco_svc.age_rules import AGE_GROUPS, MAX_AGE, MIN_AGE

KINDS = ("universe", "character", "theme", "moral_lesson", "story")
PICKABLE = ("universe", "character", "theme", "moral_lesson")
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
MAX_TAGS = 20


def key_of(kind: str, item_id: str) -> str:
    return f"{kind}:{item_id}"


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    kind: str
    id: str
    name: str
    min_age: int
    max_age: int
    tags: tuple[str, ...] = ()
    universe: str = ""  # characters
    universes: tuple[str, ...] = ()  # stories
    characters: tuple[str, ...] = ()  # stories
    theme: str = ""
    moral_lesson: str = ""
    creator_id: str = ""
    source: str = "admin"
    hidden: bool = False
    hidden_reason: str = ""
    updated_at: str = ""

    @property
    def key(self) -> str:
        return key_of(self.kind, self.id)

    @property
    def universe_ids(self) -> tuple[str, ...]:
        """The universe(s) an item belongs to (diversity, reasons, the attribute model)."""
        if self.kind == "universe":
            return (self.id,)
        if self.kind == "character":
            return (self.universe,) if self.universe else ()
        return self.universes


@dataclass
class CatalogSnapshot:
    entries: dict[str, CatalogEntry] = field(default_factory=dict)
    # of_kind's answers, made on first use: a snapshot is never changed after it is built
    # (changes make a new one), and serving asks for a kind on every call (goals: moral lessons).
    _by_kind: dict[str, tuple[CatalogEntry, ...]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_entries(cls, entries: Iterable[CatalogEntry]) -> CatalogSnapshot:
        return cls({e.key: e for e in entries})

    def get(self, kind: str, item_id: str) -> CatalogEntry | None:
        return self.entries.get(key_of(kind, item_id))

    def of_kind(self, kind: str) -> tuple[CatalogEntry, ...]:
        found = self._by_kind.get(kind)
        if found is None:
            found = self._by_kind[kind] = tuple(e for e in self.entries.values() if e.kind == kind)
        return found

    def with_entry(self, entry: CatalogEntry) -> CatalogSnapshot:
        """A copy with one entry added or replaced (snapshots are swapped, never mutated in place)."""
        entries = dict(self.entries)
        entries[entry.key] = entry
        return CatalogSnapshot(entries)

    def without_creator(self, creator_id: str) -> CatalogSnapshot:
        """A copy without the items this user created (erasure)."""
        if not any(e.creator_id == creator_id for e in self.entries.values()):
            return self
        return CatalogSnapshot({k: e for k, e in self.entries.items() if e.creator_id != creator_id})

    def with_hidden(self, kind: str, item_id: str, hidden: bool, reason: str = "") -> CatalogSnapshot:
        entry = self.get(kind, item_id)
        if entry is None:
            return self
        return self.with_entry(replace(entry, hidden=hidden, hidden_reason=reason if hidden else ""))


def demo_entries(path: Path) -> list[CatalogEntry]:
    """Parse the demo catalog JSON (universes, characters, themes, moral_lessons)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    entries: list[CatalogEntry] = []
    for section, kind in (
        ("universes", "universe"),
        ("characters", "character"),
        ("themes", "theme"),
        ("moral_lessons", "moral_lesson"),
    ):
        for raw in data.get(section, ()):
            entries.append(
                CatalogEntry(
                    kind=kind,
                    id=raw["id"],
                    name=raw["name"],
                    min_age=int(raw["min_age"]),
                    max_age=int(raw["max_age"]),
                    tags=tuple(raw.get("tags", ()))[:MAX_TAGS],
                    universe=raw.get("universe", "") if kind == "character" else "",
                    source="demo",
                )
            )
    return entries


def check_entry(entry: CatalogEntry, snapshot: CatalogSnapshot) -> list[tuple[str, str]]:
    """(field, problem) pairs an admin upsert must not break."""
    problems: list[tuple[str, str]] = []
    if entry.kind != "story" and not SLUG.fullmatch(entry.id):
        problems.append(("id", f"a {entry.kind} id must be a slug like 'dragon-ball'"))
    if not MIN_AGE <= entry.min_age <= entry.max_age <= MAX_AGE:
        problems.append(("min_age", f"ages must satisfy {MIN_AGE} <= min_age <= max_age <= {MAX_AGE}"))
    if entry.kind == "character":
        universe = snapshot.get("universe", entry.universe) if entry.universe else None
        if universe is None:
            problems.append(("universe", "a character needs an existing universe"))
    return problems


def story_from_event(
    story_id: str,
    creator_id: str,
    universes: Iterable[str],
    characters: Iterable[str],
    theme: str,
    moral_lesson: str,
    age_group: str,
    snapshot: CatalogSnapshot,
) -> CatalogEntry:
    """A story derived from its story_creation event.

    Its ages are the intersection of its parts' ages (a story is no younger than its
    oldest-rated part) and of the creator's age group when known; parts unknown to the
    catalog and no age group leave 13-17. An empty intersection gives (17, 17), which no
    group satisfies: such a story is never recommended.
    """
    parts = [
        *(snapshot.get("universe", u) for u in universes),
        *(snapshot.get("character", c) for c in characters),
        snapshot.get("theme", theme) if theme else None,
        snapshot.get("moral_lesson", moral_lesson) if moral_lesson else None,
    ]
    known = [p for p in parts if p is not None]
    low, high = MIN_AGE, MAX_AGE
    if age_group in AGE_GROUPS:
        low, high = AGE_GROUPS[age_group][0], MAX_AGE
    if not known and age_group not in AGE_GROUPS:
        low = 13
    for part in known:
        low, high = max(low, part.min_age), min(high, part.max_age)
    if low > high:
        low = high = MAX_AGE
    tags: list[str] = []
    for part in known:
        for tag in part.tags:
            if tag not in tags and len(tags) < MAX_TAGS:
                tags.append(tag)
    names = [p.name for p in known if p.kind == "character"][:3] or [p.name for p in known][:2]
    title = " & ".join(names) if names else "A story"
    theme_entry = snapshot.get("theme", theme) if theme else None
    if theme_entry is not None:
        title = f"{title}: {theme_entry.name}"
    return CatalogEntry(
        kind="story",
        id=story_id,
        name=title[:200],
        min_age=low,
        max_age=high,
        tags=tuple(tags),
        universes=tuple(universes),
        characters=tuple(characters),
        theme=theme,
        moral_lesson=moral_lesson,
        creator_id=creator_id,
        source="events",
    )
