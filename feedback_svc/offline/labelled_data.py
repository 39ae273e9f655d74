"""Reading labelled comments, shared by training, fitting and evaluation: `text<TAB>label` files
(SST-2 layout, binary) and the JSON-lines sets of mixed parent comments (three labels).

Kept free of torch so that the evaluation command runs with the serving dependencies only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def read_labelled_tsv(path: str | Path) -> tuple[list[str], list[int]]:
    """Return (texts, labels) from one `text<TAB>label` line per example, labels 0/1.

    A first line whose label field is not 0/1 (e.g. SST-2's `sentence<TAB>label`) is a header and skipped.
    """
    texts: list[str] = []
    labels: list[int] = []
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                continue
            text, sep, label = line.rpartition("\t")
            label = label.strip()
            if not sep or label not in ("0", "1"):
                if line_no == 1:
                    continue  # header
                raise ValueError(f"{path}:{line_no}: expected 'text<TAB>0|1', got {line[:80]!r}")
            texts.append(text.strip())
            labels.append(int(label))
    return texts, labels


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def validation_split(count: int, val_size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(validation indices, training indices) of `count` examples: the split carved from
    train.tsv that training picks its best epoch on and exports are compared on (seeded)."""
    order = rng.permutation(count)
    return order[:val_size], order[val_size:]


LABELS = ("negative", "neutral", "positive")
# Kinds of comment that mix praise and complaint (the others are plainly one thing).
MIXED_KINDS = ("praise_minor_complaint", "complaint_minor_praise", "balanced")


@dataclass(frozen=True)
class LabelledComments:
    """The mixed-comment sets (feedback_svc/data/sentiment_mixed_*.jsonl): one JSON object a line,
    {"text", "label": negative|neutral|positive, "kind"} (kind: praise_minor_complaint, ...)."""

    texts: list[str]
    labels: np.ndarray  # index into LABELS
    kinds: list[str]


def read_labelled_jsonl(path: str | Path) -> LabelledComments:
    texts, labels, kinds = [], [], []
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("label") not in LABELS or not str(row.get("text", "")).strip():
                raise ValueError(f"{path}:{line_no}: need a text and a label in {LABELS}")
            texts.append(row["text"])
            labels.append(LABELS.index(row["label"]))
            kinds.append(row.get("kind", row["label"]))
    return LabelledComments(texts, np.asarray(labels, dtype=np.int64), kinds)
