"""Interaction weights and decay, and the trending formula, on hand-made data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reco_svc.diversity import pick_diverse
from reco_svc.interactions import HALF_LIFE_DAYS, EventFacts, Interaction, decay, interactions_of
from reco_svc.trending import TrendCounter

NOW = datetime(2025, 3, 20, 12, tzinfo=UTC)


def test_a_story_creation_weighs_picks_more_than_theme_and_story():
    facts = EventFacts(
        "e1", "u1", "story_creation", NOW, "s1", ("dragon-ball",), ("goku", "woody"), "friendship", "teamwork"
    )
    weights = {i.key: i.weight for i in interactions_of(facts)}
    assert weights == {
        "universe:dragon-ball": 3.0,
        "character:goku": 3.0,
        "character:woody": 3.0,
        "theme:friendship": 2.0,
        "moral_lesson:teamwork": 2.0,
        "story:s1": 1.0,
    }
    click = EventFacts(
        "e2", "u1", "recommendation_clicked", NOW, recommendation_type="character", item_id="goku"
    )
    assert [(i.key, i.weight) for i in interactions_of(click)] == [("character:goku", 1.5)]
    assert interactions_of(EventFacts("e3", "u1", "session_start", NOW)) == []


def test_decay_halves_the_weight_every_half_life():
    assert decay(4.0, NOW, NOW) == pytest.approx(4.0)
    assert decay(4.0, NOW - timedelta(days=HALF_LIFE_DAYS), NOW) == pytest.approx(2.0)
    assert decay(4.0, NOW - timedelta(days=2 * HALF_LIFE_DAYS), NOW) == pytest.approx(1.0)


def _add(counter: TrendCounter, key: str, days_ago: float, times: int, group: str = "6-8") -> None:
    for n in range(times):
        counter.add(
            Interaction(f"u{n}", key, 1.0, NOW - timedelta(days=days_ago), f"e{key}{days_ago}{n}"), group
        )


def test_trending_rewards_growth_over_the_baseline_not_volume():
    counter = TrendCounter(NOW)
    _add(counter, "character:steady", 1, 30)  # 30 in the last 3 days ...
    _add(counter, "character:steady", 8, 140)  # ... after 140 in the 14 days before: 30 expected
    _add(counter, "character:rising", 1, 12)  # 12 recent after 7 in the baseline: 1.5 expected
    _add(counter, "character:rising", 8, 7)
    _add(counter, "character:blip", 1, 2)  # below the minimum recent volume
    trending = counter.trending("6-8")
    assert trending["character:rising"] == pytest.approx(1.0)
    assert "character:steady" not in trending and "character:blip" not in trending
    popularity = counter.popularity("6-8")
    assert popularity["character:steady"] == pytest.approx(1.0)
    assert counter.trending("3-5") == {} and counter.popularity("3-5") == {}


def test_diversity_caps_a_universe_but_never_an_asked_one():
    ranked = [("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b"), ("a4", "a"), ("c1", "c")]
    chosen = pick_diverse(ranked, 4, lambda x: [x[1]])
    assert [x[0] for x in chosen] == ["a1", "a2", "b1", "c1"]
    asked = pick_diverse(ranked, 4, lambda x: [x[1]], exempt={"a"})
    assert [x[0] for x in asked] == ["a1", "a2", "a3", "b1"]
    short = pick_diverse(ranked[:3], 3, lambda x: [x[1]])  # nothing else to show: fill
    assert len(short) == 3
