"""Accuracy and throughput of comment sentiment on labelled files, with VADER as the baseline.

    python -m feedback_svc.offline.evaluate --data /work/shared/data/sst2/dev.tsv \\
        --data feedback_svc/data/sentiment_mixed_test.jsonl

Prints one JSON line per file. Two kinds of files:
- `text<TAB>label` (SST-2 layout, label 0/1, a header line is skipped): binary, a score >= 0.5
  is positive. Keys: n, accuracy, macro_f1, comments_per_s.
- JSON lines with "text", "label" (negative/neutral/positive) and "kind" (the mixed parent
  comments, feedback_svc/data/sentiment_mixed_*.jsonl): the served labels with their bands
  (negative < 0.35 < neutral < 0.65 < positive). Keys: n, accuracy (three labels),
  mixed_accuracy (the comments that mix praise and complaint), macro_f1,
  lean_accuracy (comments labelled positive or negative: is the score on the right side of
  0.5), opposite (share of those given the opposite label), by_kind (accuracy per kind),
  comments_per_s.
Top-level figures are the served scorer's (feedback_svc.sentiment.comment_sentiment: the comment's parts
and the whole comment, weighted); "model_alone" is the model on the whole text only (as served
before the parts), "vader" the lexicon baseline (compound >= 0 positive for binary files; its
own +-0.05 band for three labels). Throughput is end to end from raw text (cutting into parts and
tokenization included), all texts in one call (length-sorted batches of `--batch-size`,
`--threads` at a time), the median of `--repeats` passes after one untimed warm-up.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from feedback_svc.offline.labelled_data import MIXED_KINDS, read_labelled_jsonl, read_labelled_tsv
from feedback_svc.sentiment.comment_sentiment import WEIGHTS_FILE, CommentScorer
from feedback_svc.sentiment.model import (
    BATCH_SIZE,
    DEFAULT_MODEL_DIR,
    NEGATIVE_BELOW,
    POSITIVE_ABOVE,
    SentimentModel,
)

Scorer = Callable[[Sequence[str]], np.ndarray]


def macro_f1(labels: np.ndarray, predictions: np.ndarray, classes: Sequence[int] = (0, 1)) -> float:
    scores = []
    for cls in classes:
        tp = np.sum((predictions == cls) & (labels == cls))
        fp = np.sum((predictions == cls) & (labels != cls))
        fn = np.sum((predictions != cls) & (labels == cls))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def bands(scores: np.ndarray, negative_below: float = NEGATIVE_BELOW, positive_above: float = POSITIVE_ABOVE):
    """0 negative, 1 neutral, 2 positive: the labels the service stores."""
    return np.where(scores < negative_below, 0, np.where(scores > positive_above, 2, 1))


def _timed(score: Scorer, texts: list[str], repeats: int) -> tuple[np.ndarray, float]:
    score(texts[:64])  # warm-up: first-run allocations are not part of steady-state speed
    durations, scores = [], None
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        scores = score(texts)
        durations.append(time.perf_counter() - start)
    return np.asarray(scores, dtype=np.float64), len(texts) / statistics.median(durations)


def binary_metrics(labels: np.ndarray, scores: np.ndarray, per_s: float, threshold: float = 0.5) -> dict:
    predictions = (scores >= threshold).astype(np.int64)
    return {
        "accuracy": round(float(np.mean(predictions == labels)), 4),
        "macro_f1": round(macro_f1(labels, predictions), 4),
        "comments_per_s": round(per_s, 1),
    }


def three_label_metrics(
    labels: np.ndarray, kinds: list[str], scores: np.ndarray, per_s: float, band=bands
) -> dict:
    predicted = band(scores)
    sided = labels != 1
    lean = np.where(scores >= 0.5, 2, 0)
    opposite = sided & (predicted == 2 - labels)
    by_kind = {}
    for kind in dict.fromkeys(kinds):
        mask = np.asarray([k == kind for k in kinds])
        by_kind[kind] = {
            "n": int(mask.sum()),
            "accuracy": round(float(np.mean(predicted[mask] == labels[mask])), 4),
        }
    mixed = np.asarray([k in MIXED_KINDS for k in kinds])
    return {
        "accuracy": round(float(np.mean(predicted == labels)), 4),
        "mixed_accuracy": round(float(np.mean(predicted[mixed] == labels[mixed])), 4)
        if mixed.any()
        else None,
        "macro_f1": round(macro_f1(labels, predicted, (0, 1, 2)), 4),
        "lean_accuracy": round(float(np.mean(lean[sided] == labels[sided])), 4),
        "opposite": round(float(opposite.sum() / max(1, sided.sum())), 4),
        "by_kind": by_kind,
        "comments_per_s": round(per_s, 1),
    }


def _vader() -> tuple[Scorer, Callable[[np.ndarray], np.ndarray]]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()

    def score(texts: Sequence[str]) -> np.ndarray:
        return np.asarray([(analyzer.polarity_scores(t)["compound"] + 1) / 2 for t in texts])

    # VADER's own labels: compound >= 0.05 positive, <= -0.05 negative (scores mapped to 0..1).
    return score, lambda s: bands(s, 0.475, 0.525 - 1e-9)


def evaluate_file(
    path: str | Path,
    *,
    model_dir: str | Path = DEFAULT_MODEL_DIR,
    threads: int = 0,
    batch_size: int = BATCH_SIZE,
    repeats: int = 3,
    with_vader: bool = True,
) -> dict:
    model = SentimentModel(model_dir, threads=threads, batch_size=batch_size)
    comment_scorer = CommentScorer(model)

    def served(batch: Sequence[str]) -> np.ndarray:  # as the service runs it: scores and parts
        return np.asarray([result.score for result in comment_scorer.analyse_batch(batch)])

    scorers: dict[str, Scorer] = {
        "comment": served,
        "model_alone": model.positive_probabilities,
    }
    vader_band = None
    if with_vader:
        scorers["vader"], vader_band = _vader()
    three_labels = str(path).endswith(".jsonl")
    if three_labels:
        data = read_labelled_jsonl(path)
        texts, labels, kinds = data.texts, data.labels, data.kinds
    else:
        texts, binary = read_labelled_tsv(path)
        labels, kinds = np.asarray(binary), []
    if not texts:
        raise ValueError(f"{path}: no labelled lines")
    results = {}
    for name, score in scorers.items():
        scores, per_s = _timed(score, texts, repeats)
        if three_labels:
            band = vader_band if name == "vader" else bands
            results[name] = three_label_metrics(labels, kinds, scores, per_s, band)
        else:
            results[name] = binary_metrics(labels, scores, per_s)
    return {"data": Path(path).name, "n": len(texts), **results.pop("comment"), **results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", required=True, action="append", help="text<TAB>label or JSON-lines file (repeatable)"
    )
    parser.add_argument("--model-dir", default=str(DEFAULT_MODEL_DIR))
    parser.add_argument(
        "--threads", type=int, default=0, help="batches scored at once, one per core (0: all cores)"
    )
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="texts per model run")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes; the median is reported")
    parser.add_argument("--no-vader", action="store_true", help="skip the VADER baseline")
    parser.add_argument(
        "--record",
        action="store_true",
        help="write the served scorer's accuracy beside its weights (comment_weights.json, 'evaluated'):"
        " the service reports it as storyverse_feedback_sentiment_accuracy",
    )
    args = parser.parse_args(argv)
    evaluated = {}
    for path in args.data:
        report = evaluate_file(
            path,
            model_dir=args.model_dir,
            threads=args.threads,
            batch_size=args.batch_size,
            repeats=args.repeats,
            with_vader=not args.no_vader,
        )
        print(json.dumps(report), flush=True)
        evaluated[evaluation_kind(path)] = {
            "file": Path(path).name,
            "sha256": file_sha256(path),
            "n": report["n"],
            "accuracy": report["accuracy"],
        }
    if args.record:
        record_evaluation(Path(args.model_dir), evaluated)
    return 0


def evaluation_kind(path: str | Path) -> str:
    """SST-2's layout (text<TAB>label) is 'sst2_dev'; the parent-comment sets are 'parent_comments'."""
    return "parent_comments" if str(path).endswith(".jsonl") else "sst2_dev"


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def record_evaluation(model_dir: Path, evaluated: dict[str, dict]) -> None:
    weights_path = model_dir / WEIGHTS_FILE
    weights = json.loads(weights_path.read_text(encoding="utf-8"))
    weights.setdefault("evaluated", {}).update(evaluated)
    weights["evaluated_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    weights_path.write_text(json.dumps(weights, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
