"""The demo catalog: universes, characters, themes and moral lessons, with their ages.

The same JSON is what the recommendation engine loads into PostgreSQL, so this
module only reads and checks it; it knows nothing about users.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CATALOG_PATH = Path(__file__).with_name("catalog.json")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


@dataclass(frozen=True, slots=True)
class AgeGroup:
    key: str  # as on the wire: "3-5"
    low: int
    high: int


AGE_GROUPS: dict[str, AgeGroup] = {
    g.key: g
    for g in (
        AgeGroup("3-5", 3, 5),
        AgeGroup("6-8", 6, 8),
        AgeGroup("9-12", 9, 12),
        AgeGroup("13-17", 13, 17),
    )
}


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    name: str
    min_age: int
    max_age: int
    tags: tuple[str, ...] = ()
    # Age of widest appeal; the simulator uses it to correlate tastes with age.
    peak_age: int | None = None

    def suits(self, group: AgeGroup) -> bool:
        """True when the item is allowed for every child of the group (the hard age rule)."""
        return self.min_age <= group.low and group.high <= self.max_age


@dataclass(frozen=True, slots=True)
class Character(Item):
    universe: str = ""


@dataclass(frozen=True, slots=True)
class Catalog:
    universes: tuple[Item, ...]
    characters: tuple[Character, ...]
    themes: tuple[Item, ...]
    moral_lessons: tuple[Item, ...]

    def characters_of(self, universe: str) -> tuple[Character, ...]:
        return tuple(c for c in self.characters if c.universe == universe)

    def items(self) -> tuple[Item, ...]:
        return (*self.universes, *self.characters, *self.themes, *self.moral_lessons)

    def by_id(self) -> dict[str, Item]:
        """Every item by id (ids are unique across kinds, see check_catalog)."""
        return {item.id: item for item in self.items()}


def _item(raw: dict, cls: type[Item] = Item, **extra: object) -> Item:
    return cls(
        id=raw["id"],
        name=raw["name"],
        min_age=int(raw["min_age"]),
        max_age=int(raw["max_age"]),
        tags=tuple(raw.get("tags", ())),
        peak_age=raw.get("peak_age"),
        **extra,
    )


def parse_catalog(data: dict) -> Catalog:
    universes = tuple(_item(u) for u in data["universes"])
    characters = tuple(_item(c, Character, universe=c["universe"]) for c in data["characters"])
    catalog = Catalog(
        universes=universes,
        characters=characters,  # type: ignore[arg-type]
        themes=tuple(_item(t) for t in data["themes"]),
        moral_lessons=tuple(_item(m) for m in data["moral_lessons"]),
    )
    problems = check_catalog(catalog)
    if problems:
        raise ValueError("invalid catalog: " + "; ".join(problems))
    return catalog


def check_catalog(catalog: Catalog) -> list[str]:
    """Consistency rules a hand-edited catalog can break."""
    problems: list[str] = []
    universes = {u.id: u for u in catalog.universes}
    for kind, items in (
        ("universe", catalog.universes),
        ("character", catalog.characters),
        ("theme", catalog.themes),
        ("moral_lesson", catalog.moral_lessons),
    ):
        ids = [i.id for i in items]
        if len(set(ids)) != len(ids):
            problems.append(f"duplicate {kind} ids")
        for item in items:
            if not _SLUG.fullmatch(item.id):
                problems.append(f"{kind} {item.id!r} is not a slug")
            if not 3 <= item.min_age <= item.max_age <= 17:
                problems.append(f"{kind} {item.id}: ages must satisfy 3 <= min_age <= max_age <= 17")
    all_ids = [i.id for i in catalog.items()]
    if len(set(all_ids)) != len(all_ids):
        problems.append("an id is used by two kinds of item")
    for character in catalog.characters:
        universe = universes.get(character.universe)
        if universe is None:
            problems.append(f"character {character.id}: unknown universe {character.universe!r}")
        elif character.min_age < universe.min_age or character.max_age > universe.max_age:
            problems.append(f"character {character.id}: ages outside its universe's")
    # A universe offered to a group must have characters that group may pick.
    for universe in catalog.universes:
        for group in AGE_GROUPS.values():
            if universe.suits(group) and not any(c.suits(group) for c in catalog.characters_of(universe.id)):
                problems.append(f"universe {universe.id}: no character for age group {group.key}")
    return problems


@cache
def load_catalog(path: Path | str = CATALOG_PATH) -> Catalog:
    return parse_catalog(json.loads(Path(path).read_text(encoding="utf-8")))
