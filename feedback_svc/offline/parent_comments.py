"""Training comments in parents' words, composed from hand-written clauses, with target scores.

    comments = compose(6000, np.random.default_rng(13))   # [("Lovely story, but ...", 0.72), ...]

Why: SST-2 teaches the model movie reviews, where the clause after "but" decides. Parents write
"loved it, but <a small thing>" and mean they are satisfied; they also write several sentences,
hedge ("a bit", "slightly"), ask for fixes ("please fix the typo"). Training on SST-2 plus these
comments teaches both. The clauses (feedback_svc/data/parent_clauses.txt) were written for
training only; `check_held_out` refuses any that appears in the mixed-comment dev or test sets.

Targets are where a reader puts the comment on the 0..1 scale, inside the label bands of
feedback_svc.sentiment.model (negative < 0.35 < neutral < 0.65 < positive):
praise with a minor complaint 0.72 (satisfied, not delighted), a complaint with a minor
compliment 0.2, praise and a real complaint together 0.4-0.55 (mixed), a lone minor complaint
0.3, a lone minor compliment 0.7, a statement without opinion 0.5.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

CLAUSES_FILE = Path(__file__).resolve().parents[1] / "data" / "parent_clauses.txt"
MIXED_SETS = [
    Path(__file__).resolve().parents[1] / "data" / name
    for name in ("sentiment_mixed_dev.jsonl", "sentiment_mixed_test.jsonl")
]
BLOCKS = ("praise", "complaint", "minor complaint", "minor compliment", "neutral")

# (template, target, share of the composed comments). {P} praise, {C} complaint, {M} minor
# complaint, {m} minor compliment, {N} neutral; a second {P2}/{C2} is another clause of the kind.
TEMPLATES: list[tuple[str, float, float]] = [
    # praise with a minor complaint
    ("{P}, but {M}.", 0.72, 4),
    ("{P}, though {M}.", 0.72, 2),
    ("{P}. {M}.", 0.72, 4),
    ("{P}! {M}.", 0.74, 2),
    ("{P}; {M}.", 0.72, 1),
    ("{P}, although {M}.", 0.72, 1),
    ("{P}, even if {M}.", 0.74, 1),
    ("{P}. Only thing: {M}.", 0.74, 1),
    ("{P}. One small thing: {M}.", 0.74, 1),
    ("{P}. My only complaint is that {M}.", 0.72, 1),
    ("{P}, {M} though.", 0.72, 1),
    ("{P} and {P2}. {M}.", 0.76, 2),
    ("{P}. {M}, but {P2}.", 0.8, 1),
    ("{M}, but {P}.", 0.8, 2),
    ("Although {M}, {P}.", 0.8, 1),
    ("{M}. Still, {P}.", 0.78, 1),
    # a complaint with a minor compliment
    ("{C}, but {m}.", 0.2, 3),
    ("{C}, though {m}.", 0.2, 2),
    ("{C}. {m}.", 0.2, 3),
    ("{C}, even though {m}.", 0.2, 1),
    ("{C}, although {m}.", 0.2, 1),
    ("{C}. At least {m}.", 0.2, 1),
    ("{C}; {m}.", 0.2, 1),
    ("{C} and {C2}. {m}.", 0.15, 2),
    ("{m}, but {C}.", 0.15, 2),
    ("Although {m}, {C}.", 0.15, 1),
    ("{m}. Sadly, {C}.", 0.15, 1),
    # praise and a real complaint: mixed
    ("{P}, but {C}.", 0.4, 2),
    ("{P}. {C}.", 0.45, 1),
    ("{C}, but {P}.", 0.55, 1),
    # one-sided, so that two sentences alone do not mean "mixed"
    ("{P}. {P2}.", 0.98, 2),
    ("{P} and {P2}.", 0.98, 1),
    ("{C}. {C2}.", 0.02, 2),
    ("{C} and {C2}.", 0.02, 1),
    # alone
    ("{M}.", 0.3, 2),
    ("{m}.", 0.7, 1),
    ("{N}.", 0.5, 1),
    ("{N}. {N2}.", 0.5, 0.5),
]
_SLOTS = {"P": "praise", "C": "complaint", "M": "minor complaint", "m": "minor compliment", "N": "neutral"}
_FIELD = re.compile(r"\{([PCMmN])(2?)\}")


def read_clauses(path: Path = CLAUSES_FILE) -> dict[str, list[str]]:
    """{block: [clause, ...]} from 'block:' headers and one clause per line ('#' comments)."""
    clauses: dict[str, list[str]] = {}
    block = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.endswith(":") and line[:-1] in BLOCKS:
            block = line[:-1]
            clauses[block] = []
        elif block is None:
            raise ValueError(f"{path}: clause before any block header: {line!r}")
        else:
            clauses[block].append(line)
    missing = [b for b in BLOCKS if not clauses.get(b)]
    if missing:
        raise ValueError(f"{path}: no clauses for {', '.join(missing)}")
    return clauses


def _normalise(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def check_held_out(clauses: dict[str, list[str]], held_out: list[Path] = MIXED_SETS) -> None:
    """Refuse a clause that appears inside a comment of the dev or test set."""
    comments = [
        _normalise(json.loads(line)["text"])
        for path in held_out
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    leaks = [c for items in clauses.values() for c in items if any(_normalise(c) in t for t in comments)]
    if leaks:
        raise ValueError(f"training clauses found in the held-out comments: {leaks}")


def _sentence_case(text: str) -> str:
    return re.sub(r"(^|[.!?;]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def compose(count: int, rng: np.random.Generator, clauses: dict[str, list[str]] | None = None):
    """`count` (comment, target) pairs, seeded; templates drawn by their share."""
    clauses = clauses or read_clauses()
    shares = np.asarray([share for _, _, share in TEMPLATES], dtype=float)
    picks = rng.choice(len(TEMPLATES), size=count, p=shares / shares.sum())
    out: list[tuple[str, float]] = []
    for pick in picks:
        template, target, _ = TEMPLATES[pick]
        used: dict[str, str] = {}

        def fill(match: re.Match[str], used: dict[str, str] = used) -> str:
            pool = clauses[_SLOTS[match.group(1)]]
            while True:
                clause = pool[rng.integers(len(pool))]
                if clause not in used.values() or len(pool) == 1:
                    break
            used[match.group(0)] = clause
            return clause

        text = _sentence_case(_FIELD.sub(fill, template))
        style = rng.random()
        if style < 0.1:
            text = text.lower()  # parents often type without capitals
        elif style < 0.2:
            text = text.rstrip(".")
        out.append((text, target))
    return out
