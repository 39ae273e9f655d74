"""Reading weights are chosen on validation data (pure: generated interactions, no database).

Children of two tastes read stories of both kinds: those of their taste they finish (and some
they read again), the others they open and abandon early, and more often. Counting every view
alike (uniform weights) or a view at all (the former weights) feeds the dislikes to the model as
taste; tuning must find weights under which an early abandon weighs nothing, and these must rank
the held-out stories the children finished better than uniform or former weights."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from reco_svc.interactions import Interaction
from reco_svc.offline.evaluation import ranking_metrics
from reco_svc.offline.models import FAMILIES
from reco_svc.offline.splits import per_item_split
from reco_svc.offline.tuning import tune
from reco_svc.reading import DEFAULT, UNIFORM
from reco_svc.signal_matrix import signal_pairs

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def generated(users: int = 240, stories: int = 60, seed: int = 3) -> list[Interaction]:
    rng = np.random.default_rng(seed)
    found: list[Interaction] = []
    for u in range(users):
        taste = u % 2
        mine = [s for s in range(stories) if s % 2 == taste]
        other = [s for s in range(stories) if s % 2 != taste]
        t = NOW - timedelta(days=10)
        for n, s in enumerate(rng.choice(mine, 5, replace=False)):
            key, t = f"story:s{s}", t + timedelta(minutes=5)
            found += [
                Interaction(f"u{u}", key, 1.0, t, f"e{u}-{s}-v", "story_view", "view", 100.0),
                Interaction(f"u{u}", key, 1.0, t, f"e{u}-{s}-t", "story_view", "time", None),
                Interaction(
                    f"u{u}", key, 1.0, t + timedelta(seconds=1), f"e{u}-{s}-c", "story_completed", "complete"
                ),
            ]
            if n % 2 == 0:  # read again a day later
                found.append(
                    Interaction(
                        f"u{u}", key, 1.0, t + timedelta(days=1), f"e{u}-{s}-r", "story_view", "view", 100.0
                    )
                )
        for s in rng.choice(other, 9, replace=False):
            key, t = f"story:s{s}", t + timedelta(minutes=5)
            found += [
                Interaction(f"u{u}", key, 1.0, t, f"e{u}-{s}-v", "story_view", "view", 10.0),
                Interaction(f"u{u}", key, 0.05, t, f"e{u}-{s}-t", "story_view", "time", None),
                Interaction(f"u{u}", key, 1.0, t, f"e{u}-{s}-a", "story_view", "abandon", None),
            ]
    return found


def test_tuning_chooses_reading_weights_that_beat_uniform_and_former_ones_on_held_out_data():
    interactions = generated()
    keys = sorted({i.key for i in interactions})
    pairs, _ = signal_pairs(interactions, {k: n for n, k in enumerate(keys)}, NOW)
    train_mask, _ = per_item_split(pairs.cols)
    _, choice = tune(pairs.take(train_mask), budget_seconds=60, families=["ease_lowpass"])

    chosen = choice.reading
    assert chosen is not None
    # An early abandon, with its view and its few seconds, weighs nothing.
    assert chosen.view + chosen.abandon + 0.05 * chosen.time <= 0, chosen
    figures = choice.record()["reading_validation_ndcg@10"]
    assert figures["chosen"] > 1.03 * max(figures["default"], figures["uniform"]), figures
    assert choice.record()["reading_weights"] == chosen.as_dict()

    test = pairs.relevant(~train_mask)
    held_out = {}
    for name, weights in (("chosen", chosen), ("uniform", UNIFORM), ("default", DEFAULT)):
        train = pairs.matrix(weights, train_mask)
        model = FAMILIES[choice.family].build(choice.params).fit(train)
        held_out[name] = ranking_metrics(model, train, test, 10)[0]["ndcg@10"]
    assert held_out["chosen"] > 1.03 * max(held_out["uniform"], held_out["default"]), held_out


def test_without_reading_signals_nothing_is_chosen_and_a_matrix_tunes_as_before(co_consumed_matrix):
    _, choice = tune(co_consumed_matrix, budget_seconds=10)
    assert choice.reading is None and "reading_weights" not in choice.record()
