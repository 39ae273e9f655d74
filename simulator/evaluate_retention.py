"""python -m simulator.evaluate_retention: predicted retention on a time split of simulated history.

    ./storyverse evaluate-retention [--users 4000] [--train-weeks 8] [--seed 7]

Generates seeded history with a known hidden return propensity (simulator/retention.py),
trains on weeks 1..n, predicts from the end of week n, and scores week n+1 (and the 28 days
from the cut-off) for our model and both baselines (BG/NBD, the recency-frequency rule).
Prints a table, then as its last line one JSON object (auc, pr_auc, calibration_error,
auc_bgnbd, auc_rule, ...: 7-day figures unsuffixed, 28-day ones suffixed _28;
spearman_hidden*: rank correlation with the simulator's hidden probability of returning).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from analytics_svc.churn.activity import from_events
from analytics_svc.churn.evaluation import HORIZONS, evaluate
from simulator.retention import retention_history


def run(users: int, train_weeks: int, seed: int) -> dict:
    began = time.perf_counter()
    weeks = train_weeks + max(HORIZONS) // 7
    cutoff = train_weeks * 7
    history = retention_history(users, weeks, seed, truth_days=(cutoff,))
    activity = from_events(history.events, history.feedback, history.start_date, weeks * 7)
    truth = {h: history.simulation.truth(cutoff, h) for h in HORIZONS}
    figures = evaluate(activity, train_weeks, truth)
    figures.update(
        {
            "auc_minus_bgnbd": round(figures["auc"] - figures["auc_bgnbd"], 4),
            "users": users,
            "events": len(history.events),
            "seed": seed,
            "start_date": history.start_date.isoformat(),
            "seconds": round(time.perf_counter() - began, 1),
        }
    )
    return figures


def table(f: dict) -> str:
    lines = [f"{'':28}{'ROC AUC':>9}{'PR AUC':>9}{'calib.':>9}{'rank corr. hidden':>19}"]
    for h in HORIZONS:
        s = "" if h == 7 else f"_{h}"
        for label, key in (("model", ""), ("BG/NBD", "_bgnbd"), ("recency-frequency rule", "_rule")):
            calib = f.get(f"calibration_error{key}{s}")
            calib_text = "" if calib is None else format(calib, ".4f")
            lines.append(
                f"{f'{h}d {label}':28}{f[f'auc{key}{s}']:>9.4f}{f[f'pr_auc{key}{s}']:>9.4f}"
                f"{calib_text:>9}{f.get(f'spearman_hidden{key}{s}', 0):>19.4f}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="evaluate-retention", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=4000)
    parser.add_argument("--train-weeks", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.users < 50 or args.train_weeks < 5:
        parser.error("need --users >= 50 and --train-weeks >= 5 (the 28-day model needs a 28-day label)")
    figures = run(args.users, args.train_weeks, args.seed)
    print(table(figures))
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
