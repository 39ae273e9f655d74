"""Hyper-parameter search on a validation split carved from the TRAINING part only.

The benchmark split (per-item 75/25, seed 42) is made first; its test part is never read here.
The training part is split again with the same per-item rule (seeds 1, 2, 3) and every candidate
is scored on those validation parts; the mean nDCG@10 decides. Usage:

    python -m reco_svc.offline.tuning --path /work/shared/data/movielens-100k --grid ease
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator

import numpy as np

from reco_svc.offline.data import read_interactions, to_csr
from reco_svc.offline.evaluation import evaluate
from reco_svc.offline.models.base import ItemItemModel
from reco_svc.offline.models.blend import BlendModel
from reco_svc.offline.models.ease import EaseModel
from reco_svc.offline.models.lowpass import LowPassModel
from reco_svc.offline.models.rp3beta import RP3BetaModel
from reco_svc.offline.splits import per_item_split

VALIDATION_SEEDS = (1, 2, 3)
BENCHMARK_SEED = 42

Factory = Callable[[], ItemItemModel]


def grid(name: str) -> Iterator[tuple[str, Factory]]:
    if name == "ease":
        for l2 in (200, 300, 400, 500, 700, 1000):
            yield f"ease l2={l2}", lambda l2=l2: EaseModel(l2=l2)
    elif name == "ease_norm":
        for alpha, l2s in ((0.2, (80, 120, 160)), (0.3, (20, 40, 60)), (0.4, (4, 8, 15)), (0.5, (0.5, 1, 2))):
            for l2 in l2s:
                yield f"ease l2={l2} alpha={alpha}", lambda l2=l2, a=alpha: EaseModel(l2=l2, item_alpha=a)
    elif name == "ease_norm2":
        for alpha, l2s in ((0.3, (30, 50)), (0.4, (25, 35)), (0.5, (4, 8, 12))):
            for l2 in l2s:
                for p in (0.0, 0.2):
                    yield (
                        f"ease l2={l2} alpha={alpha} p={p}",
                        lambda l2=l2, a=alpha, p=p: EaseModel(l2=l2, item_alpha=a, dropout=p),
                    )
        for g, l2 in ((0.25, 8), (0.25, 15)):
            yield (
                f"ease l2={l2} alpha=0.3 gamma={g}",
                lambda l2=l2, g=g: EaseModel(l2=l2, item_alpha=0.3, user_gamma=g),
            )
    elif name == "lowpass":
        for exponent in (0.3, 0.5):
            for rank in (8, 16, 24, 32, 48):
                yield f"lowpass b={exponent} k={rank}", lambda b=exponent, k=rank: LowPassModel(k, b)
    elif name == "ease_lowpass":
        for l2 in (300, 500, 800):
            for exponent, rank in ((0.5, 32), (0.3, 8), (0.3, 16), (0.3, 24)):
                for w in (0.2, 0.3, 0.45):
                    yield (
                        f"ease l2={l2} + {w}*lowpass b={exponent} k={rank}",
                        lambda l2=l2, b=exponent, k=rank, w=w: BlendModel(
                            [(1 - w, EaseModel(l2=l2)), (w, LowPassModel(rank=k, item_exponent=b))]
                        ),
                    )
    elif name == "ease_lowpass_fine":
        for l2 in (600, 800, 1200):
            for exponent in (0.2, 0.3, 0.4):
                for rank in (12, 16, 20):
                    for w in (0.15, 0.2, 0.25, 0.3):
                        yield (
                            f"ease l2={l2} + {w}*lowpass b={exponent} k={rank}",
                            lambda l2=l2, b=exponent, k=rank, w=w: BlendModel(
                                [(1 - w, EaseModel(l2=l2)), (w, LowPassModel(rank=k, item_exponent=b))]
                            ),
                        )
        for w in (0.2, 0.3):
            yield (
                f"ease_norm + {w}*lowpass b=0.3 k=16",
                lambda w=w: BlendModel(
                    [(1 - w, EaseModel(l2=40, item_alpha=0.3)), (w, LowPassModel(rank=16, item_exponent=0.3))]
                ),
            )
    elif name == "sparse_blend":
        for exponent, rank in ((0.3, 16), (0.5, 32)):
            for w in (0.2, 0.35, 0.5, 0.65):
                yield (
                    f"rp3beta + {w}*lowpass b={exponent} k={rank}",
                    lambda b=exponent, k=rank, w=w: BlendModel(
                        [(1 - w, RP3BetaModel(0.8, 0.4, 200)), (w, LowPassModel(rank=k, item_exponent=b))]
                    ),
                )
    elif name == "edlae":
        for l2 in (50, 150, 300):
            for p in (0.1, 0.25, 0.4, 0.55):
                yield f"edlae l2={l2} p={p}", lambda l2=l2, p=p: EaseModel(l2=l2, dropout=p)
    elif name == "ease_user":
        for gamma, l2s in ((0.25, (50, 100, 150)), (0.5, (3, 6, 10))):
            for l2 in l2s:
                yield f"ease l2={l2} gamma={gamma}", lambda l2=l2, g=gamma: EaseModel(l2=l2, user_gamma=g)
    elif name == "rp3":
        for alpha in (0.6, 0.8, 1.0):
            for beta in (0.0, 0.2, 0.4):
                for n in (50, 200):
                    yield f"rp3 a={alpha} b={beta} n={n}", lambda a=alpha, b=beta, n=n: RP3BetaModel(a, b, n)
    elif name == "blend":
        for w in (0.1, 0.2, 0.35, 0.5):
            yield (
                f"blend ease500+{w}*rp3",
                lambda w=w: BlendModel([(1.0 - w, EaseModel(l2=500)), (w, RP3BetaModel(0.8, 0.2, 200))]),
            )
    else:
        raise ValueError(f"unknown grid {name!r}")


def validation_folds(path: str) -> list[tuple[object, object]]:
    data = read_interactions(path)
    train_mask, _ = per_item_split(data.items, seed=BENCHMARK_SEED)
    users, items = data.users[train_mask], data.items[train_mask]
    folds = []
    for seed in VALIDATION_SEEDS:
        fit_mask, valid_mask = per_item_split(items, seed=seed)
        folds.append(
            (
                to_csr(users[fit_mask], items[fit_mask], data.n_users, data.n_items),
                to_csr(users[valid_mask], items[valid_mask], data.n_users, data.n_items),
            )
        )
    return folds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", required=True, help="folder with u.data")
    parser.add_argument("--grid", required=True)
    args = parser.parse_args(argv)
    folds = validation_folds(f"{args.path}/u.data")
    for label, factory in grid(args.grid):
        results = [evaluate(factory(), fit, valid) for fit, valid in folds]
        ndcg = [r.metrics["ndcg@10"] for r in results]
        row = {
            "candidate": label,
            "valid_ndcg@10": round(float(np.mean(ndcg)), 4),
            "valid_ndcg_std": round(float(np.std(ndcg)), 4),
            "valid_precision@10": round(float(np.mean([r.metrics["precision@10"] for r in results])), 4),
            "train_seconds": round(float(np.mean([r.train_seconds for r in results])), 2),
        }
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
