"""Offline evaluation of the lean toward educational goals, on simulated families with hidden goals.

    python -m reco_svc.offline.goal_alignment                      # one JSON line: with and without goals
    python -m reco_svc.offline.goal_alignment --scan --seed 11     # lift 1..6 (choose on validation seeds)

The simulator (seeded) gives families their tastes and, for GOAL_SHARE of them, one or two hidden
moral-lesson goals (simulator/goals.py); with --goal-pull p the goals also steer that share of
their stories' lessons (0: goals never show in behaviour, the lean's pure cost). Interactions
(reco_svc.interactions) with universes, characters, themes and moral lessons before the cut-off
day train the default collaborative model; the list evaluated is the one the lean applies to:
the /themes list (themes and moral lessons, each kind ranked on its own, age rule applied,
interleaved as served by serving.diverse), top 10. Relevant: the themes and lessons the child
picked after the cut-off (repeats count: the list does not hide what a child already picked).

- nDCG@10: over the children with goals and held-out picks, with and without the lean;
- goal-alignment@10: the share of their top 10 that teaches one of their goals (goals.Goal.taught_by),
  with and without.

The lean is goals.lean with the serving's defaults (lift(limit), goal_cap(limit)) unless --scan.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import scipy.sparse as sp

from reco_svc.age_rules import allowed
from reco_svc.catalog import CatalogEntry, CatalogSnapshot, demo_entries
from reco_svc.goals import Goal, lean, resolve
from reco_svc.interactions import EventFacts, interactions_of, parse_ts
from reco_svc.offline.models import make_model
from reco_svc.offline.ranking_metrics import ndcg_at_k
from reco_svc.serving import Request, Scored, diverse

# One fixed family (the tuned default's usual choice): the lean is what is compared, not tuning.
FIXED_MODEL = "ease_lowpass"

K = 10
KINDS = ("theme", "moral_lesson")
PICKABLE = ("universe", "character", "theme", "moral_lesson")


def facts_of(event: dict) -> EventFacts:
    p = event.get("properties", {})
    return EventFacts(
        event_id=event["event_id"],
        user_id=event["user_id"],
        event_type=event["event_type"],
        ts=parse_ts(event["timestamp"]),
        story_id=p.get("story_id", ""),
        universes=tuple(p.get("universes", ())),
        characters=tuple(p.get("characters", ())),
        theme=p.get("theme", ""),
        moral_lesson=p.get("moral_lesson", ""),
        age_group=p.get("age_group", ""),
        recommendation_type=p.get("recommendation_type", ""),
        item_id=p.get("item_id", ""),
        duration=p.get("duration"),
        position=p.get("position"),
    )


def simulate(users: int, days: int, seed: int, goal_pull: float):
    """(families: user id -> (age group, goal ids), train pairs, test pairs, cut-off)."""
    from simulator import SimConfig, Simulation, load_catalog

    now = datetime(2026, 3, 1, tzinfo=UTC)
    sim = Simulation(
        users, days, seed, now=now, config=SimConfig(goal_pull=goal_pull), catalog=load_catalog()
    )
    cut = now - timedelta(days=max(1, days // 4))
    train: list[tuple[str, str]] = []
    test: list[tuple[str, str]] = []
    for batch in sim.run():
        for event in batch.events:
            facts = facts_of(event)
            for i in interactions_of(facts):
                if i.key.partition(":")[0] in PICKABLE:
                    (train if facts.ts < cut else test).append((i.user_id, i.key))
    families = {u.user_id: (u.age_group.key, sim.goals[u.index]) for u in sim.population}
    return families, train, test


def evaluate(
    users: int = 2000,
    days: int = 56,
    seed: int = 7,
    goal_pull: float = 0.0,
    settings: list[tuple[int | None, int | None]] | None = None,
) -> dict:
    started = time.perf_counter()
    snapshot = CatalogSnapshot.from_entries(demo_entries(_catalog_path()))
    families, train, test = simulate(users, days, seed, goal_pull)
    keys = sorted({k for _, k in train} | {k for _, k in test})
    index = {k: n for n, k in enumerate(keys)}
    people = sorted(families)
    row = {u: n for n, u in enumerate(people)}
    matrix = _csr([(row[u], index[k]) for u, k in train], len(people), len(keys))
    name, model = make_model(FIXED_MODEL, len(keys))
    model.fit(matrix)
    held: dict[str, set[str]] = {}
    for u, k in test:
        if k.partition(":")[0] in KINDS:
            held.setdefault(u, set()).add(k)
    evaluated = [u for u in people if families[u][1] and held.get(u) and matrix[row[u]].nnz]
    scores = model.score(matrix[[row[u] for u in evaluated]]) if evaluated else np.zeros((0, len(keys)))
    settings = settings or [(None, None)]
    results = {s: {"ndcg": [], "aligned": []} for s in [("off", "off"), *settings]}
    for n, user in enumerate(evaluated):
        group, goal_ids = families[user]
        goals = resolve(goal_ids, snapshot)
        ranked = {kind: _ranked(kind, scores[n], keys, snapshot, group) for kind in KINDS}
        relevant = held[user]
        for setting, figures in results.items():
            lists = dict(ranked)
            if setting != ("off", "off"):
                for kind in KINDS:
                    lists[kind], _ = lean(ranked[kind], goals, K, lambda s: s.entry, *setting)
            top = diverse(Request(user, group, ("themes",), limit=K), [lists[k] for k in KINDS])
            picked = [s.entry.key for s in top]
            figures["ndcg"].append(ndcg_at_k(picked, relevant, K))
            figures["aligned"].append(sum(_teaches(s.entry, goals) for s in top) / K)
    out = {}
    for setting, figures in results.items():
        label = "off" if setting == ("off", "off") else _label(setting)
        out[label] = {
            "ndcg@10": round(float(np.mean(figures["ndcg"])) if figures["ndcg"] else 0.0, 4),
            "goal_alignment@10": round(float(np.mean(figures["aligned"])) if figures["aligned"] else 0.0, 4),
        }
    return {
        "model": name,
        "users": users,
        "days": days,
        "seed": seed,
        "goal_pull": goal_pull,
        "families_with_goals": sum(1 for g in families.values() if g[1]),
        "children_evaluated": len(evaluated),
        "results": out,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _catalog_path():
    from simulator.catalog import CATALOG_PATH

    return CATALOG_PATH


def _label(setting) -> str:
    lift_by, cap = setting
    return f"lift={'default' if lift_by is None else lift_by},cap={'default' if cap is None else cap}"


def _teaches(entry: CatalogEntry, goals: list[Goal]) -> bool:
    return any(g.taught_by(entry) for g in goals)


def _ranked(
    kind: str, scores: np.ndarray, keys: list[str], snapshot: CatalogSnapshot, group: str
) -> list[Scored]:
    """One kind's items that pass the age rule, best first (ties by id, as serving breaks them)."""
    found = []
    for n, key in enumerate(keys):
        k, _, item_id = key.partition(":")
        entry = snapshot.get(k, item_id)
        if k == kind and entry is not None and allowed(entry.min_age, entry.max_age, group):
            found.append(Scored(entry, float(scores[n])))
    found.sort(key=lambda s: (-s.score, s.entry.id))
    return found


def _csr(pairs: list[tuple[int, int]], n_rows: int, n_cols: int) -> sp.csr_matrix:
    rows = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
    cols = np.fromiter((p[1] for p in pairs), dtype=np.int64, count=len(pairs))
    matrix = sp.csr_matrix((np.ones(len(pairs), np.float32), (rows, cols)), shape=(n_rows, n_cols))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Goal-alignment@10 and nDCG@10 with and without the lean.")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--days", type=int, default=56)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--goal-pull", type=float, default=0.0, help="share of a goal family's lessons steered"
    )
    parser.add_argument("--scan", action="store_true", help="lift 1..6 instead of the default")
    args = parser.parse_args(argv)
    # The cap cannot bind here (a lesson goal is taught by one lesson, the list has one of each).
    grid = [(lift_by, None) for lift_by in range(1, 7)] if args.scan else None
    result = evaluate(args.users, args.days, args.seed, args.goal_pull, grid)
    if not args.scan:
        off, on = result["results"]["off"], result["results"]["lift=default,cap=default"]
        result["ndcg_change"] = round(on["ndcg@10"] / off["ndcg@10"] - 1, 4) if off["ndcg@10"] else 0.0
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
