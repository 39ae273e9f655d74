"""Precision, recall and F1 of the aspect extractor on the hand-labelled comments."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from feedback_svc.sentiment.aspects import extract

LABELLED = Path(__file__).parent / "data" / "aspects_labelled.jsonl"
# Written after the lexicon was frozen and never used to tune it: the honest figure.
HELDOUT = Path(__file__).parent / "data" / "aspects_heldout.jsonl"


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    support: int


def load(path: Path = LABELLED) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _scores(tp: int, fp: int, fn: int) -> Scores:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(round(precision, 3), round(recall, 3), round(f1, 3), tp + fn)


def evaluate(rows: list[dict]) -> dict[str, Scores]:
    """'detection': (comment, aspect) pairs; 'polarity': (comment, aspect, polarity) triples;
    'aspect:<name>': detection per aspect."""
    counts: dict[str, list[int]] = {}

    def add(key: str, gold: set, predicted: set) -> None:
        tp_fp_fn = counts.setdefault(key, [0, 0, 0])
        tp_fp_fn[0] += len(gold & predicted)
        tp_fp_fn[1] += len(predicted - gold)
        tp_fp_fn[2] += len(gold - predicted)

    for row in rows:
        gold = dict(row["aspects"])
        predicted = {a.aspect: a.polarity for a in extract(row["text"])}
        add("detection", set(gold), set(predicted))
        add("polarity", set(gold.items()), set(predicted.items()))
        for name in set(gold) | set(predicted):
            add(f"aspect:{name}", {name} & set(gold), {name} & set(predicted))
    return {key: _scores(*value) for key, value in sorted(counts.items())}


def errors(rows: list[dict]) -> list[tuple[str, dict, dict]]:
    out = []
    for row in rows:
        predicted = {a.aspect: a.polarity for a in extract(row["text"])}
        if predicted != row["aspects"]:
            out.append((row["text"], row["aspects"], predicted))
    return out


if __name__ == "__main__":
    import sys

    data = load(HELDOUT if "--heldout" in sys.argv else LABELLED)
    for key, value in evaluate(data).items():
        print(f"{key:32} P={value.precision:.3f} R={value.recall:.3f} F1={value.f1:.3f} n={value.support}")
    for text, gold, predicted in errors(data):
        print(f"- {text}\n    gold={gold}\n    got ={predicted}")
