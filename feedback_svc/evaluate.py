"""Accuracy, macro F1 and throughput of the sentiment model, with VADER as the baseline, on one file.

    python -m feedback_svc.evaluate --data /work/shared/data/sst2/dev.tsv

The file has one `text<TAB>label` per line (label 0 = negative, 1 = positive; a header line is
detected and skipped). Prints one JSON line:
{"n", "accuracy", "macro_f1", "comments_per_s", "vader": {"accuracy", "macro_f1", "comments_per_s"}}.
Labels are binary, so our model is scored with score >= 0.5 -> positive (the neutral band of
`feedback_svc.sentiment` is not used here) and VADER with compound >= 0 -> positive.
Throughput is end to end from raw text (tokenization included), all texts given to the model at
once (it runs them in length-sorted batches of `--batch-size`, `--threads` batches at a time), the
median of `--repeats` passes after one untimed warm-up batch.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from feedback_svc.labelled_data import read_labelled_tsv
from feedback_svc.sentiment import BATCH_SIZE, DEFAULT_MODEL_DIR, SentimentModel


def macro_f1(labels: np.ndarray, predictions: np.ndarray) -> float:
    scores = []
    for cls in (0, 1):
        tp = np.sum((predictions == cls) & (labels == cls))
        fp = np.sum((predictions == cls) & (labels != cls))
        fn = np.sum((predictions != cls) & (labels == cls))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def _timed(predict: Callable[[Sequence[str]], np.ndarray], texts: list[str], repeats: int):
    predict(texts[:64])  # warm-up: first-run allocations are not part of steady-state speed
    durations, predictions = [], None
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        predictions = predict(texts)
        durations.append(time.perf_counter() - start)
    return predictions, len(texts) / statistics.median(durations)


def _metrics(labels: np.ndarray, predictions: np.ndarray, per_s: float) -> dict:
    return {
        "accuracy": round(float(np.mean(predictions == labels)), 4),
        "macro_f1": round(macro_f1(labels, predictions), 4),
        "comments_per_s": round(per_s, 1),
    }


def evaluate_file(
    path: str | Path,
    *,
    model_dir: str | Path = DEFAULT_MODEL_DIR,
    threads: int = 0,
    batch_size: int = BATCH_SIZE,
    repeats: int = 3,
    with_vader: bool = True,
) -> dict:
    texts, labels = read_labelled_tsv(path)
    if not texts:
        raise ValueError(f"{path}: no labelled lines")
    gold = np.asarray(labels)
    model = SentimentModel(model_dir, threads=threads, batch_size=batch_size)

    def ours(batch: Sequence[str]) -> np.ndarray:
        return (model.positive_probabilities(batch) >= 0.5).astype(np.int64)

    predictions, per_s = _timed(ours, texts, repeats)
    report = {"n": len(texts), **_metrics(gold, predictions, per_s)}
    if with_vader:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        analyzer = SentimentIntensityAnalyzer()

        def vader(batch: Sequence[str]) -> np.ndarray:
            return np.asarray([analyzer.polarity_scores(t)["compound"] >= 0 for t in batch], dtype=np.int64)

        predictions, per_s = _timed(vader, texts, repeats)
        report["vader"] = _metrics(gold, predictions, per_s)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", required=True, help="text<TAB>label file")
    parser.add_argument("--model-dir", default=str(DEFAULT_MODEL_DIR))
    parser.add_argument(
        "--threads", type=int, default=0, help="batches scored at once, one per core (0: all cores)"
    )
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="texts per model run")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes; the median is reported")
    parser.add_argument("--no-vader", action="store_true", help="skip the VADER baseline")
    args = parser.parse_args(argv)
    report = evaluate_file(
        args.data,
        model_dir=args.model_dir,
        threads=args.threads,
        batch_size=args.batch_size,
        repeats=args.repeats,
        with_vader=not args.no_vader,
    )
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
