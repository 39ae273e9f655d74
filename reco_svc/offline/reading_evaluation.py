"""What the reading weights chosen by tuning give, against uniform and the former weights.

    ./storyverse evaluate-reading [--users 800 --days 42 --seed 7 --budget 60]

Simulated history with library reading (simulator: children read other children's stories,
finish and re-read what they like, abandon early what they do not), as training reads it
(interactions.py, reading.py) into (user, item) pairs with their signals (signal_matrix.py).
The pairs are split per item 75/25 (seed 42, as training); tuning (offline/tuning.py) sees only
the 75 % part and chooses family, hyper-parameters and the reading weights on its own validation
split. The chosen family and hyper-parameters are then fitted on the 75 % part with the chosen,
the uniform (every signal 1) and the former weights (reading.DEFAULT: view 1, completion 2), and
each is scored by nDCG@10 on the held-out pairs that show taste (picks, completions, re-reads:
the same targets for all). The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime

from reco_svc.interactions import interactions_of
from reco_svc.offline.evaluation import ranking_metrics
from reco_svc.offline.goal_alignment import facts_of
from reco_svc.offline.models import FAMILIES
from reco_svc.offline.splits import per_item_split
from reco_svc.offline.tuning import tune
from reco_svc.reading import DEFAULT, UNIFORM
from reco_svc.signal_matrix import signal_pairs

K = 10


def simulate(users: int, days: int, seed: int, library_reads: float):
    from simulator import SimConfig, Simulation, load_catalog

    now = datetime(2026, 3, 1, tzinfo=UTC)
    sim = Simulation(
        users, days, seed, now=now, config=SimConfig(library_reads=library_reads), catalog=load_catalog()
    )
    found = []
    for batch in sim.run():
        for event in batch.events:
            found += interactions_of(facts_of(event))
    return found, now


def evaluate(
    users: int = 800, days: int = 42, seed: int = 7, library_reads: float = 1.5, budget: float = 60.0
) -> dict:
    started = time.perf_counter()
    interactions, now = simulate(users, days, seed, library_reads)
    keys = sorted({i.key for i in interactions})
    pairs, _ = signal_pairs(interactions, {k: n for n, k in enumerate(keys)}, now)
    train_mask, _ = per_item_split(pairs.cols)
    _, choice = tune(pairs.take(train_mask), budget)
    family = FAMILIES[choice.family]
    test = pairs.relevant(~train_mask)
    result: dict[str, object] = {
        "users": users,
        "days": days,
        "seed": seed,
        "pairs": pairs.nnz,
        "items": len(keys),
        "family": choice.family,
        "weights": (choice.reading or DEFAULT).as_dict(),
        "validation_ndcg@10": choice.reading_ndcg,
    }
    for name, weights in (("chosen", choice.reading or DEFAULT), ("uniform", UNIFORM), ("default", DEFAULT)):
        train = pairs.matrix(weights, train_mask)
        model = family.build(choice.params).fit(train)
        found, scored = ranking_metrics(model, train, test, K)
        result[f"ndcg_{name}"] = round(found[f"ndcg@{K}"], 5)
        result["users_scored"] = scored
    result["gain_over_uniform"] = round(result["ndcg_chosen"] / result["ndcg_uniform"] - 1.0, 4)
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=800)
    parser.add_argument("--days", type=int, default=42)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--library-reads", type=float, default=1.5)
    parser.add_argument("--budget", type=float, default=60.0, help="tuning seconds")
    args = parser.parse_args()
    result = evaluate(args.users, args.days, args.seed, args.library_reads, args.budget)
    print(f"weights chosen by tuning ({result['family']}): {result['weights']}")
    for name in ("chosen", "uniform", "default"):
        print(f"  held-out nDCG@{K} with {name:8} weights: {result[f'ndcg_{name}']:.4f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
