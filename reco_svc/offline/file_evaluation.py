"""Offline evaluation CLI: per-item 75/25 split, tune and fit on the training part, top-10
metrics on the test part, one JSON line.

python -m reco_svc.evaluate --dataset movielens-100k --path /work/shared/data/movielens-100k
python -m reco_svc.evaluate --interactions events.tsv [--budget 60]   # tuned (model auto)
python -m reco_svc.evaluate --interactions events.tsv --model rp3beta  # a fixed configuration

With `--model auto` (the default) the family and hyper-parameters are chosen by tuning.py on a
validation split of the training part only, within --budget seconds; `train_seconds` counts
the tuning and the final fit, and `tuning` says what was chosen and why.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from reco_svc.offline.data import read_interactions, to_csr, to_time_csr
from reco_svc.offline.evaluation import evaluate, ranking_metrics
from reco_svc.offline.models import AUTO, DEFAULT_MODEL, MODELS, make_model
from reco_svc.offline.splits import per_item_split
from reco_svc.offline.tuning import DEFAULT_BUDGET_SECONDS, tune

DATASET_FILES = {"movielens-100k": "u.data"}
K = 10

# Microsoft Recommenders MovieLens-100k benchmark figures, quoted for comparison (issue 5).
PUBLISHED_MOVIELENS_100K = {
    "BiVAE": {"ndcg@10": 0.475, "precision@10": 0.412},
    "BPR": {"ndcg@10": 0.442, "precision@10": 0.388},
    "LightGCN": {"ndcg@10": 0.420, "precision@10": 0.380},
    "NCF": {"ndcg@10": 0.396, "precision@10": 0.347},
    "SAR": {"ndcg@10": 0.382, "precision@10": 0.331},
}


def run(
    interactions_path: Path, model_name: str, seed: int, budget: float = DEFAULT_BUDGET_SECONDS
) -> dict[str, object]:
    data = read_interactions(interactions_path)
    train_mask, test_mask = per_item_split(data.items, seed=seed)
    train = to_csr(data.users[train_mask], data.items[train_mask], data.n_users, data.n_items)
    test = to_csr(data.users[test_mask], data.items[test_mask], data.n_users, data.n_items)
    chosen: dict[str, object] = {}
    if model_name == AUTO:
        times = ratings = None  # the training pairs' timestamps and weights only
        if data.times is not None:
            u, i, t = data.users[train_mask], data.items[train_mask], data.times[train_mask]
            times = to_time_csr(u, i, t, data.n_users, data.n_items)
            if data.weights is not None:
                ratings = to_time_csr(u, i, t, data.n_users, data.n_items, data.weights[train_mask])
        started = time.perf_counter()
        # The test part is built but never passed to tuning.
        model, choice = tune(train, budget, times=times, ratings=ratings)
        train_seconds = time.perf_counter() - started
        used_name, chosen = choice.family, {"tuning": choice.record()}
        found, users_scored = ranking_metrics(model, train, test, k=K)
    else:
        used_name, model = make_model(model_name, data.n_items)
        result = evaluate(model, train, test, k=K)
        found, users_scored, train_seconds = result.metrics, result.users_scored, result.train_seconds
    return {
        "model": used_name,
        **{name: round(value, 4) for name, value in found.items()},
        "train_seconds": round(train_seconds, 3),
        "users_scored": users_scored,
        "n_users": data.n_users,
        "n_items": data.n_items,
        "n_train": int(train_mask.sum()),
        "n_test": int(test_mask.sum()),
        "seed": seed,
        **chosen,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Offline top-10 evaluation of a recommendation model.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", choices=sorted(DATASET_FILES), help="a known dataset (needs --path)")
    source.add_argument("--interactions", type=Path, help="user,item[,weight[,timestamp]] file, no header")
    parser.add_argument("--path", type=Path, help="folder holding the dataset files")
    parser.add_argument("--model", default=DEFAULT_MODEL, choices=[AUTO, *sorted(MODELS)])
    parser.add_argument(
        "--budget", type=float, default=DEFAULT_BUDGET_SECONDS, help="seconds for tuning (model auto)"
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the per-item split")
    args = parser.parse_args(argv)

    if args.dataset:
        if args.path is None:
            parser.error("--dataset needs --path")
        interactions_path = args.path / DATASET_FILES[args.dataset]
    else:
        interactions_path = args.interactions
    output = run(interactions_path, args.model, args.seed, args.budget)
    if args.dataset == "movielens-100k":
        output["published"] = PUBLISHED_MOVIELENS_100K
    sys.stdout.write(json.dumps(output) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
