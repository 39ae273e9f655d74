"""The lean toward a child's goals: it only reorders age-safe candidates, moves each item at
most `lift` places, at most `goal_cap` items per goal, only items that teach their goal; through
the whole serving pipeline with adversarial models the age rule still holds and every goal
reason names a goal the item teaches."""

from __future__ import annotations

import asyncio
from collections import Counter

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reco_svc import goals as goals_mod
from reco_svc.age_rules import AGE_GROUPS
from reco_svc.catalog import CatalogEntry, CatalogSnapshot
from reco_svc.goals import SKILLS, Goal, GoalBook, goal_cap, lean, lift
from reco_svc.serving import Request
from tests.reco.serving.test_age_rule import TYPES, adversarial_model, catalogs, check, engine, history

LESSONS = ["patience", "honesty", "teamwork", "kindness"]
THEMES = ["mystery", "magic", "friendship", "nature"]


@st.composite
def candidates(draw) -> list[CatalogEntry]:
    n = draw(st.integers(0, 40))
    out = []
    for i in range(n):
        kind = draw(st.sampled_from(["theme", "moral_lesson", "story", "universe"]))
        theme = draw(st.sampled_from(THEMES))
        lesson = draw(st.sampled_from(LESSONS))
        item_id = {"theme": theme, "moral_lesson": lesson}.get(kind, f"x{i}")
        out.append(
            CatalogEntry(
                kind,
                f"{item_id}-{i}" if kind in ("theme", "moral_lesson") else item_id,
                "n",
                3,
                17,
                theme=theme if kind == "story" else "",
                moral_lesson=lesson if kind == "story" else "",
            )
        )
    return out


def goal_set(draw_ids: list[str]) -> list[Goal]:
    found = []
    for g in draw_ids:
        if g in SKILLS:
            found.append(SKILLS[g])
        else:
            found.append(Goal(g, g.title(), "moral_lesson", lessons=frozenset({g})))
    return found


@settings(max_examples=300, deadline=None)
@given(
    ranked=candidates(),
    ids=st.lists(st.sampled_from([*LESSONS, *SKILLS]), max_size=3, unique=True),
    limit=st.integers(1, 20),
)
def test_the_lean_only_reorders_within_its_bounds(ranked, ids, limit):
    goals = goal_set(ids)
    out, moved = lean(ranked, goals, limit, lambda e: e)
    assert sorted(map(id, out)) == sorted(map(id, ranked))  # a permutation: nothing added, nothing lost
    before = {id(c): n for n, c in enumerate(ranked)}
    per_goal = Counter()
    for n, c in enumerate(out):
        assert before[id(c)] - n <= lift(limit)  # no item moves further up than the lift
        if id(c) in moved:
            goal = moved[id(c)]
            assert goal.taught_by(c) and goal in goals
            assert n < before[id(c)]
            per_goal[goal.id] += 1
        elif before[id(c)] > n:
            # Passing an item is only allowed to items moved for a goal.
            raise AssertionError((c, before[id(c)], n))
    assert all(count <= goal_cap(limit) for count in per_goal.values())
    if not goals:
        assert out == list(ranked) and not moved


def _patience_goal() -> Goal:
    return Goal("patience", "Patience", "moral_lesson", lessons=frozenset({"patience"}))


def test_an_item_that_teaches_a_goal_moves_up_lift_places_and_says_why():
    ranked = [
        CatalogEntry("moral_lesson", lesson, lesson.title(), 3, 17)
        for lesson in ["bravery", "empathy", "honesty", "kindness", "respect", "patience", "sharing"]
    ]
    out, moved = lean(ranked, [_patience_goal()], 5, lambda e: e)
    assert lift(5) == 2
    assert [e.id for e in out][:5] == ["bravery", "empathy", "honesty", "patience", "kindness"]
    assert moved[id(ranked[5])].reason() == "teaches patience, a goal you set"


def test_a_cap_per_goal_keeps_a_list_from_becoming_one_lesson():
    stories = [
        CatalogEntry("story", f"s{i}", "s", 3, 17, moral_lesson="patience" if i >= 3 else "honesty")
        for i in range(12)
    ]
    out, moved = lean(stories, [_patience_goal()], 10, lambda e: e)
    assert len(moved) == goal_cap(10) == 3
    assert sum(e.moral_lesson == "patience" for e in out[:10]) == 7  # 3 moved + the 4 that were there


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=catalogs(),
    group=st.sampled_from(list(AGE_GROUPS)),
    types=st.lists(st.sampled_from(TYPES), min_size=1, max_size=4, unique=True),
    limit=st.integers(1, 12),
    seed=st.integers(0, 2**16),
    known=st.sampled_from([0.0, 0.5, 1.0]),
    goal_count=st.integers(1, 3),
)
def test_goals_never_override_the_age_rule_in_the_pipeline(
    entries, group, types, limit, seed, known, goal_count
):
    """The adversarial models of the age-rule test, with goals on the catalog's own lessons and
    themes (the generated ones, whatever their ages): every answer still passes the rule."""
    rng = np.random.default_rng(seed)
    recommender = engine(entries, adversarial_model(entries, group, seed, known))
    snapshot: CatalogSnapshot = recommender.catalog.snapshot
    book = GoalBook(None, lambda: snapshot)
    lessons = [e.id for e in entries if e.kind == "moral_lesson"]
    chosen = list(rng.choice(lessons, size=min(goal_count, len(lessons)), replace=False)) if lessons else []
    book.remember("user-goals", [*chosen, "curiosity"])
    recommender.goals = book
    asyncio.run(recommender.features.put("user-goals", history("user-goals", entries, rng)))
    request = Request(user_id="user-goals", age_group=group, types=tuple(types), limit=limit)
    lists = asyncio.run(recommender.recommend(request))
    check(lists, request, snapshot)
    # Generated lessons may share a name: a reason names a goal, so any goal of that name may teach it.
    goals: dict[str, list] = {}
    for goal in goals_mod.resolve([*chosen, "curiosity"], snapshot):
        goals.setdefault(goal.name.lower(), []).append(goal)
    for found in lists:
        per_goal = Counter()
        for item in found.items:
            if item.reason.endswith(", a goal you set"):
                name = item.reason.removeprefix("teaches ").removesuffix(", a goal you set")
                assert any(goal.taught_by(item.entry) for goal in goals[name]), (name, item.entry)
                per_goal[(item.entry.kind, name)] += 1
        assert all(n <= goal_cap(limit) * len(goals[name]) for (_, name), n in per_goal.items())
