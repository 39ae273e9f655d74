"""Compare exports of the same weights without SST-2 dev (how the shipped quantization is chosen).

    python -m feedback_svc.offline.train_sentiment --data DATA --from-checkpoint W.pt --weight-bits 0 \\
        --out /tmp/fp32
    python -m feedback_svc.offline.train_sentiment --data DATA --from-checkpoint W.pt --out /tmp/int8
    python -m feedback_svc.offline.compare_exports --data DATA --reference /tmp/fp32 /tmp/int8 [...]

Each folder holds model.onnx and tokenizer.json (what train_sentiment writes). For each candidate
prints one JSON line: accuracy on the validation split carved from DATA/train.tsv (the same seeded
split training uses), and fidelity to the reference on the longest training phrases, whose labels
are not used: the share of labels (score >= 0.5) that agree, and the mean |score difference|.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from feedback_svc.offline.labelled_data import read_labelled_tsv, validation_split
from feedback_svc.sentiment.model import SentimentModel

SEED = 13  # train_sentiment's default --seed and --val-size: the same validation split
VAL_SIZE = 2000
LONGEST = 3000


def compare(
    data: str | Path,
    reference: str | Path,
    candidates: list[str | Path],
    *,
    seed: int = SEED,
    val_size: int = VAL_SIZE,
    longest: int = LONGEST,
) -> list[dict]:
    texts, labels = read_labelled_tsv(Path(data) / "train.tsv")
    val_idx, train_idx = validation_split(len(texts), val_size, np.random.default_rng(seed))
    reference_model = SentimentModel(reference)
    lengths = [len(e.ids) for e in reference_model.tokenizer.encode_batch([texts[i] for i in train_idx])]
    long_idx = train_idx[np.argsort(-np.asarray(lengths), kind="stable")[:longest]]
    val_texts, long_texts = [texts[i] for i in val_idx], [texts[i] for i in long_idx]
    val_labels = np.asarray(labels)[val_idx]
    expected = reference_model.positive_probabilities(long_texts)
    report = []
    for folder in candidates:
        model = SentimentModel(folder)
        scores = model.positive_probabilities(long_texts)
        report.append(
            {
                "model": str(folder),
                "validation_accuracy": round(
                    float(np.mean((model.positive_probabilities(val_texts) >= 0.5) == val_labels)), 4
                ),
                "agrees_with_reference": round(float(np.mean((scores >= 0.5) == (expected >= 0.5))), 4),
                "mean_abs_difference": round(float(np.mean(np.abs(scores - expected))), 4),
                "n_validation": len(val_texts),
                "n_longest": len(long_texts),
            }
        )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", required=True, help="folder with SST-2 train.tsv")
    parser.add_argument("--reference", required=True, help="model folder to compare with (the fp32 export)")
    parser.add_argument("candidates", nargs="+", help="model folders")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--val-size", type=int, default=VAL_SIZE)
    parser.add_argument("--longest", type=int, default=LONGEST)
    args = parser.parse_args(argv)
    for line in compare(
        args.data,
        args.reference,
        args.candidates,
        seed=args.seed,
        val_size=args.val_size,
        longest=args.longest,
    ):
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
