"""Between families: the two rules proved with hypothesis on the rule function and on the real
query (PostgreSQL), then end to end over HTTP through the gateway, erasure included.

1. Only stories their authors shared, and nothing that names a family or a child.
2. Only items backed by at least K_FAMILIES distinct families (k-anonymity), the requester and
   the author not counted; an erased family's contribution is gone.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reco_svc import family_store
from reco_svc.age_rules import AGE_GROUPS, allowed
from reco_svc.catalog import CatalogEntry, CatalogSnapshot
from reco_svc.catalog_state import CatalogState
from reco_svc.families import K_FAMILIES, Backed, FamilyBoard, picks

FAMILIES = [f"fam-{i}" for i in range(9)]
GROUPS = list(AGE_GROUPS)
ASKED = st.sampled_from(["6-8", "6-8", "9-12", "3-5", "13-17"])


@st.composite
def worlds(draw):
    """Stories with authors and ages, shares (by the author or by someone else), loves."""
    n = draw(st.integers(1, 6))
    stories = []
    for i in range(n):
        low = draw(st.sampled_from([3, 3, 6, 9, 13]))
        stories.append(
            CatalogEntry(
                "story",
                f"s{i}",
                f"Story {i}",
                low,
                max(low, draw(st.sampled_from([17, 17, 12, 8, 5]))),
                creator_id=draw(st.sampled_from(FAMILIES)),
                hidden=draw(st.integers(0, 7)) == 0,
            )
        )
    shares = draw(st.sets(st.tuples(st.sampled_from([s.id for s in stories]), st.sampled_from(FAMILIES))))
    # The author's own shares, often enough to matter.
    shares |= {(s.id, s.creator_id) for s in stories if draw(st.integers(0, 3)) > 0}
    # Each story is read mostly in one age group, by around K_FAMILIES families (the boundary),
    # plus loves at random.
    loves = set()
    for story in stories:
        group = draw(st.sampled_from(["6-8", "6-8", "9-12", "3-5"]))
        readers = draw(st.sets(st.sampled_from(FAMILIES), min_size=K_FAMILIES - 1, max_size=K_FAMILIES + 3))
        loves |= {(story.id, f, group) for f in readers}
    loves |= draw(
        st.sets(
            st.tuples(
                st.sampled_from([s.id for s in stories]), st.sampled_from(FAMILIES), st.sampled_from(GROUPS)
            ),
            max_size=20,
        )
    )
    return stories, shares, loves


def expected(stories, shares, loves, requester, group) -> dict[str, int]:
    """The rules written out plainly: which stories may be shown, with their count of families."""
    out = {}
    loved_by_requester = {s for s, f, _ in loves if f == requester}
    for story in stories:
        if story.hidden or (story.id, story.creator_id) not in shares or story.creator_id == requester:
            continue
        if story.id in loved_by_requester or not allowed(story.min_age, story.max_age, group):
            continue
        # One row per (story, family) is kept: the family's first love (the table's key).
        families = {f for s, f, g in loves if s == story.id and g == group} - {requester, story.creator_id}
        if len(families) >= K_FAMILIES:
            out[story.id] = len(families)
    return out


def candidates_of(shares, loves, group) -> list[Backed]:
    """What the query gives, computed in Python (the rule function is tested on it alone)."""
    found = []
    for story_id, sharer in shares:
        backers = frozenset(f for s, f, g in loves if s == story_id and g == group)
        found.append(Backed(story_id, sharer, backers))
    return found


def _one_row_per_family(loves):
    first = {}
    for s, f, g in sorted(loves):
        first.setdefault((s, f), g)
    return {(s, f, g) for (s, f), g in first.items()}


@settings(max_examples=300, deadline=None)
@given(world=worlds(), requester=st.sampled_from([*FAMILIES, "newcomer"]), group=ASKED)
def test_only_shared_stories_backed_by_enough_families_are_picked(world, requester, group):
    stories, shares, loves = world
    loves = _one_row_per_family(loves)
    snapshot = CatalogSnapshot.from_entries(stories)
    already = {s for s, f, _ in loves if f == requester}
    found = picks(candidates_of(shares, loves, group), snapshot, requester, group, already, limit=50)
    assert {p.entry.id: p.families for p in found} == expected(stories, shares, loves, requester, group)
    event(f"shown: {min(len(found), 2)}")
    for p in found:
        assert p.families >= K_FAMILIES and p.reason == f"loved by {p.families} families like yours"
        shown = json.dumps([p.entry.id, p.entry.name, p.reason])
        assert not any(f in shown for f in FAMILIES)


@settings(max_examples=200, deadline=None)
@given(world=worlds(), erased=st.sampled_from(FAMILIES), group=ASKED)
def test_an_erased_family_counts_for_nothing(world, erased, group):
    stories, shares, loves = world
    loves = _one_row_per_family(loves)
    snapshot = CatalogSnapshot.from_entries(stories)
    requester = "newcomer"
    # Erasure removes the family's shares and loves (and its stories from the catalog).
    kept_shares = {(s, f) for s, f in shares if f != erased}
    kept_loves = {x for x in loves if x[1] != erased}
    kept_snapshot = snapshot.without_creator(erased)
    after = picks(candidates_of(kept_shares, kept_loves, group), kept_snapshot, requester, group, set(), 50)
    before = {
        p.entry.id: p.families
        for p in picks(candidates_of(shares, loves, group), snapshot, requester, group, set(), 50)
    }
    for p in after:
        assert p.entry.creator_id != erased
        backed = {s for s, f, g in loves if f == erased and g == group}
        assert p.families == before[p.entry.id] - (p.entry.id in backed)
    assert {p.entry.id: p.families for p in after} == expected(
        [s for s in stories if s.creator_id != erased], kept_shares, kept_loves, requester, group
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds(), requester=st.sampled_from([*FAMILIES, "newcomer"]), group=ASKED)
def test_the_query_and_the_rules_together_on_postgresql(reco, settings, world, requester, group):
    """The real tables (the session's reco service migrated them) and query: rows written as the
    bus handler writes them, read by the board."""
    stories, shares, loves = world
    asyncio.run(_through_postgresql(settings.database_url, stories, shares, loves, requester, group))


async def _through_postgresql(url, stories, shares, loves, requester, group):
    import asyncpg

    prefix = f"p{uuid.uuid4().hex[:8]}-"
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        now = datetime.now(UTC)
        tag = lambda x: prefix + x  # noqa: E731 - fresh ids per example on a shared database
        stories = [
            CatalogEntry(
                "story",
                tag(s.id),
                s.name,
                s.min_age,
                s.max_age,
                creator_id=tag(s.creator_id),
                hidden=s.hidden,
            )
            for s in stories
        ]
        shares = {(tag(s), tag(f)) for s, f in shares}
        loves = _one_row_per_family({(tag(s), tag(f), g) for s, f, g in loves})
        requester = tag(requester)
        await family_store.add_shares(pool, [(s, f, now) for s, f in shares])
        await family_store.add_loves(pool, [(s, f, g, now) for s, f, g in sorted(loves)])
        catalog = CatalogState(pool)
        catalog.snapshot = CatalogSnapshot.from_entries(stories)
        board = FamilyBoard(pool, catalog)
        found = await board.recommend(requester, group, 50)
        assert {p.entry.id: p.families for p in found} == expected(stories, shares, loves, requester, group)
    finally:
        await pool.execute("DELETE FROM reco_story_shares WHERE story_id LIKE $1", prefix + "%")
        await pool.execute("DELETE FROM reco_family_loves WHERE story_id LIKE $1", prefix + "%")
        await pool.close()
