"""Educational goals: what a parent wants a child to learn, and how recommendations lean toward it.

A goal is a moral lesson of the catalog (patience, honesty, teamwork...) or one of the SKILLS
below. An item teaches a goal when

| item          | teaches the goal when                                        |
|---------------|--------------------------------------------------------------|
| moral lesson  | it is one of the goal's lessons                              |
| theme         | it is one of the goal's themes                               |
| story         | its moral lesson or its theme does                           |

Universes and characters teach nothing: their lists do not lean.

The lean (`lean`, a step of the serving pipeline and of the offline evaluation alike) works on
a list of candidates that already passed the age rule, best first: an item that teaches a goal
moves up `lift(limit)` places, for at most `goal_cap(limit)` items per goal (the best-ranked
ones), so a list never becomes one lesson. It only reorders: what the age rule and moderation
removed stays removed. The items it moved say why: "teaches patience, a goal you set".
LIFT_SHARE was chosen on simulated families with hidden goals (reco_svc/offline/goal_alignment.py):
the largest lift whose nDCG@10 loss stayed within 2 % on each of three validation seeds
(11, 13, 17: lift 3 of 10); on the test seed goal-alignment@10 rises by half, nDCG@10 loses
1.7 % (docs/benchmarks.md).
"""

from __future__ import annotations

import math
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import asyncpg

from common.errors import FieldViolation, InvalidArgument
from common.notifications import Notifications
from common.privacy.steps import ErasureStep, table_step
from reco_svc import goal_store
from reco_svc.catalog import CatalogEntry, CatalogSnapshot

T = TypeVar("T")

MAX_GOALS = 5
LIFT_SHARE = 0.3  # places an item that teaches a goal moves up, as a share of the list's length
CAP_SHARE = 0.3  # items per goal that may move up, as a share of the list's length
# A change made through another replica arrives as a notification (goal_store.CHANGED_CHANNEL);
# the cache's age bounds one missed while that replica's listener was down. Reading the goals on
# every call instead cost a query per Recommend (at 500/s on 2 cores, the margin of the machine).
CACHE_SECONDS = 60.0
CACHE_USERS = 50_000
LEANING_KINDS = frozenset({"theme", "moral_lesson", "story"})


@dataclass(frozen=True)
class Goal:
    id: str
    name: str
    kind: str  # moral_lesson or skill
    lessons: frozenset[str] = frozenset()
    themes: frozenset[str] = frozenset()

    def taught_by(self, entry: CatalogEntry) -> bool:
        if entry.kind == "moral_lesson":
            return entry.id in self.lessons
        if entry.kind == "theme":
            return entry.id in self.themes
        if entry.kind == "story":
            return entry.moral_lesson in self.lessons or entry.theme in self.themes
        return False

    def reason(self) -> str:
        return f"teaches {self.name.lower()}, a goal you set"


# Skills, taught through the demo catalog's themes (and lessons); ids absent from the catalog
# simply match nothing.
SKILLS: dict[str, Goal] = {
    g.id: g
    for g in (
        Goal(
            "reading-practice",
            "Reading practice",
            "skill",
            themes=frozenset({"bedtime", "mystery", "adventure"}),
        ),
        Goal("curiosity", "Curiosity", "skill", themes=frozenset({"exploration", "nature", "mystery"})),
        Goal("creativity", "Creativity", "skill", themes=frozenset({"magic", "humor"})),
        Goal(
            "problem-solving",
            "Problem solving",
            "skill",
            lessons=frozenset({"critical-thinking", "perseverance"}),
            themes=frozenset({"mystery"}),
        ),
    )
}


def available(snapshot: CatalogSnapshot) -> list[Goal]:
    """The goals a parent can choose: the catalog's visible moral lessons, then the skills."""
    lessons = sorted((e for e in snapshot.of_kind("moral_lesson") if not e.hidden), key=lambda e: e.id)
    return [Goal(e.id, e.name, "moral_lesson", lessons=frozenset({e.id})) for e in lessons] + list(
        SKILLS.values()
    )


def resolve(ids: Iterable[str], snapshot: CatalogSnapshot) -> list[Goal]:
    """Goals by id, in order, unknown ones left out (a lesson removed from the catalog since)."""
    known = {g.id: g for g in available(snapshot)}
    return [known[i] for i in dict.fromkeys(ids) if i in known]


def lift(limit: int) -> int:
    return max(1, round(limit * LIFT_SHARE))


def goal_cap(limit: int) -> int:
    """1 of 3, 2 of 5, 3 of 10."""
    return max(1, math.ceil(limit * CAP_SHARE))


def lean(
    ranked: Sequence[T],
    goals: Sequence[Goal],
    limit: int,
    entry_of: Callable[[T], CatalogEntry],
    lift_by: int | None = None,
    cap: int | None = None,
) -> tuple[list[T], dict[int, Goal]]:
    """The candidates reordered toward the goals, and the goal each moved item was moved for
    (by id() of the candidate). Candidates are best first and already age-safe."""
    if not goals or not ranked:
        return list(ranked), {}
    lift_by = lift(limit) if lift_by is None else lift_by
    cap = goal_cap(limit) if cap is None else cap
    used: Counter[str] = Counter()
    keys: list[tuple[int, int, int]] = []
    moved: dict[int, Goal] = {}
    for position, candidate in enumerate(ranked):
        entry = entry_of(candidate)
        goal = next((g for g in goals if used[g.id] < cap and g.taught_by(entry)), None)
        if goal is None:
            keys.append((position, 1, position))
            continue
        used[goal.id] += 1
        keys.append((position - lift_by, 0, position))  # ahead of the item it lands on
        moved[id(candidate)] = goal
    order = sorted(range(len(ranked)), key=keys.__getitem__)
    out = [ranked[i] for i in order]
    # Only an item that passed another one was moved by the lean.
    was = {id(c): n for n, c in enumerate(ranked)}
    moved = {id(c): moved[id(c)] for n, c in enumerate(out) if id(c) in moved and n < was[id(c)]}
    return out, moved


class GoalBook:
    """The children's goals: set, listed and cleared through the contract, read on every
    recommendation through a cache (CACHE_SECONDS) that every replica's change clears at once."""

    def __init__(self, pool: asyncpg.Pool, snapshot: Callable[[], CatalogSnapshot]) -> None:
        self.pool = pool
        self.snapshot = snapshot
        self._cache: OrderedDict[str, tuple[float, tuple[str, ...]]] = OrderedDict()
        # Changes heard so far: a read that a change overtook is answered but not cached.
        self._changes = 0

    def listen(self, notifications: Notifications) -> None:
        """Forget a child's cached goals when any replica changes them (before
        notifications.start()); everything, when notifications may have been missed."""
        notifications.subscribe(goal_store.CHANGED_CHANNEL, self._changed, on_gap=self._forget_all)

    def _changed(self, user_id: str) -> None:
        self._changes += 1
        self._cache.pop(user_id, None)

    def _forget_all(self) -> None:
        self._changes += 1
        self._cache.clear()

    def available(self) -> list[Goal]:
        return available(self.snapshot())

    async def set(self, user_id: str, ids: Sequence[str]) -> list[Goal]:
        ids = list(dict.fromkeys(ids))
        known = {g.id for g in self.available()}
        violations = [
            FieldViolation(f"goals[{n}]", f"unknown goal {goal!r}: ListGoals gives the available ones")
            for n, goal in enumerate(ids)
            if goal not in known
        ]
        if len(ids) > MAX_GOALS:
            violations.append(FieldViolation("goals", f"at most {MAX_GOALS} goals"))
        if violations:
            raise InvalidArgument.of(violations)
        await goal_store.replace_goals(self.pool, user_id, ids)
        self.remember(user_id, ids)
        return await self.list(user_id)

    async def list(self, user_id: str) -> list[Goal]:
        return resolve(await goal_store.goals_of(self.pool, user_id), self.snapshot())

    async def clear(self, user_id: str) -> int:
        cleared = await goal_store.clear_goals(self.pool, user_id)
        self._changes += 1
        self._cache.pop(user_id, None)
        return cleared

    async def of(self, user_id: str) -> list[Goal]:
        """The child's goals for serving (cached)."""
        now = time.monotonic()
        cached = self._cache.get(user_id)
        if cached is None or now - cached[0] > CACHE_SECONDS:
            changes = self._changes
            ids = await goal_store.goals_of(self.pool, user_id)
            if self._changes != changes:  # it may predate that change: kept, it would be stale
                return resolve(ids, self.snapshot()) if ids else []
            cached = self.remember(user_id, ids)
        return resolve(cached[1], self.snapshot()) if cached[1] else []

    def remember(self, user_id: str, ids: Sequence[str]) -> tuple[float, tuple[str, ...]]:
        """The user's goals as now stored (after a set, a read), for CACHE_SECONDS."""
        cached = (time.monotonic(), tuple(ids))
        self._cache[user_id] = cached
        self._cache.move_to_end(user_id)
        while len(self._cache) > CACHE_USERS:
            self._cache.popitem(last=False)
        return cached

    async def overview(self) -> tuple[int, list[tuple[Goal, int]]]:
        """Children with goals, and per goal (most chosen first) how many children have it."""
        children, counts = await goal_store.goal_counts(self.pool)
        known = {g.id: g for g in self.available()}
        per_goal = [(known.get(i) or Goal(i, i, "moral_lesson"), n) for i, n in counts.items()]
        return children, per_goal

    async def forget_local(self, user_id: str) -> None:
        """Erasure: this replica's cached goals of the user (the rows go in the erasure step)."""
        self._cache.pop(user_id, None)


def erasure_step(pool: asyncpg.Pool) -> ErasureStep:
    """A child's goals go with the child."""
    return table_step(pool, "reco_goals", "user_id = $1")
