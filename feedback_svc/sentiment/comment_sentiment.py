"""One sentiment score for a whole parent comment, from its parts.

    scorer = CommentScorer(SentimentModel(threads=2))
    result = scorer.analyse_batch(["My son loved the story but thought the ending was a bit confusing."])[0]
    result.score, result.label        # one score in 0..1 and its band, e.g. (0.7, "positive")
    [(p.text, p.label, round(p.weight, 2)) for p in result.parts]
    # [("My son loved the story", "positive", 0.69), ("thought the ending was ...", "negative", 0.08)]

The comment is cut into parts (feedback_svc.sentiment.comment_parts); every part, and the whole comment,
is scored by the model in one batch. The comment's score is their weighted mean,
score = sum(w_i * p_i) / sum(w_i) with w_i = exp(sum_k theta_k * cue_ik): the cues are a part's
role (after "but", a concession, an exception), its place (last), its hedges ("a bit"), requests
("please fix") and intensifiers ("absolutely"); the whole comment is one more row with its own
weight, so the model's reading of the comment as a whole still counts. The parts are weighed
only where the parent writes several sentences, marks a part as minor or names an exception
(`weighs_parts`);
in one plain sentence the whole comment's score stands and the parts are shown with weight 0.
The weights theta are fitted (feedback_svc.offline.fit_comment_weights) on the dev set of mixed
comments and SST-2 train phrases, never on the test set, and shipped in the model folder as
comment_weights.json. A comment of one part is scored as it is, by the model alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from feedback_svc.sentiment import comment_parts
from feedback_svc.sentiment.comment_parts import Part

if TYPE_CHECKING:  # onnxruntime is imported only where a model is loaded (scoring.load_model)
    from feedback_svc.sentiment.model import SentimentModel

WEIGHTS_FILE = "comment_weights.json"
# The cues of a row, in the order of a feature vector; "whole" marks the row of the whole comment.
CUES = ("contrast", "concession", "exception", "last", "hedged", "request", "intense", "whole")


@dataclass(frozen=True)
class ScoredPart:
    text: str
    score: float
    label: str
    weight: float  # share of the comment's score; the parts and the whole comment sum to 1


@dataclass(frozen=True)
class CommentSentiment:
    score: float
    label: str
    parts: tuple[ScoredPart, ...]  # empty when the comment has a single part


def cue_vector(part: Part, is_last: bool) -> list[float]:
    return [
        float(part.role == comment_parts.CONTRAST),
        float(part.role == comment_parts.CONCESSION),
        float(part.role == comment_parts.EXCEPTION),
        float(is_last),
        float(part.hedged),
        float(part.request),
        float(part.intense),
        0.0,
    ]


WHOLE_ROW = [0.0] * (len(CUES) - 1) + [1.0]


def weighs_parts(parts: Sequence[Part]) -> bool:
    """Whether a comment's score weighs its parts: where the parent writes several sentences,
    marks a part as minor (a hedge, a request) or names an exception ("loved it, except ...").
    Elsewhere the model's reading of the whole comment stands: in one sentence without such
    cues, "X, but Y" means Y, as in the reviews the model learned from (weighing the parts of
    every comment cost 1.4 points of SST-2 dev accuracy)."""
    return len({p.sentence for p in parts}) > 1 or any(
        p.hedged or p.request or p.role == comment_parts.EXCEPTION for p in parts
    )


@dataclass(frozen=True)
class Rows:
    """What the model scores for a batch of comments: per row its text, comment index and cues."""

    texts: list[str]
    comment: np.ndarray  # int, the comment each row belongs to
    cues: np.ndarray  # (rows, len(CUES))
    weighed: np.ndarray  # bool: the row counts in its comment's score (see weighs_parts)
    parts: list[list[Part]]  # per comment; [] for a single-part comment


def rows_of(comments: Sequence[str]) -> Rows:
    texts: list[str] = []
    owners: list[int] = []
    cues: list[list[float]] = []
    weighed: list[bool] = []
    all_parts: list[list[Part]] = []
    for index, comment in enumerate(comments):
        parts = comment_parts.split(comment)
        if len(parts) <= 1:
            texts.append(comment.strip())
            owners.append(index)
            cues.append([0.0] * len(CUES))
            weighed.append(True)
            all_parts.append([])
            continue
        counted = weighs_parts(parts)
        for position, part in enumerate(parts):
            texts.append(part.text)
            owners.append(index)
            cues.append(cue_vector(part, position == len(parts) - 1))
            weighed.append(counted)
        texts.append(comment.strip())
        owners.append(index)
        cues.append(WHOLE_ROW)
        weighed.append(True)
        all_parts.append(parts)
    return Rows(
        texts,
        np.asarray(owners, dtype=np.int64),
        np.asarray(cues).reshape(-1, len(CUES)),
        np.asarray(weighed, dtype=bool),
        all_parts,
    )


def aggregate(
    probabilities: np.ndarray, rows: Rows, theta: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """(score per comment, share of each row in its comment's score): all comments at once."""
    weights = np.where(rows.weighed, np.exp(rows.cues @ theta), 0.0)
    totals = np.bincount(rows.comment, weights, count)
    scores = np.bincount(rows.comment, weights * probabilities, count) / totals
    return scores, weights / totals[rows.comment]


def load_theta(model_dir: str | Path) -> np.ndarray:
    """The fitted cue weights of `model_dir`/comment_weights.json; all zero (a plain mean) when
    there are none yet, for a model fresh from training (the service refuses to start without
    them, see scoring.py)."""
    path = Path(model_dir) / WEIGHTS_FILE
    if not path.is_file():
        return np.zeros(len(CUES))
    fitted: Mapping[str, float] = json.loads(path.read_text())["theta"]
    unknown = set(fitted) - set(CUES)
    if unknown:
        raise ValueError(f"{path}: unknown cues {sorted(unknown)}")
    return np.asarray([float(fitted.get(cue, 0.0)) for cue in CUES])


class CommentScorer:
    """The scorer the feedback service uses: `score_batch` (the SentimentScorer protocol) and
    `analyse_batch` (the same score with the parts)."""

    def __init__(self, model: SentimentModel, theta: np.ndarray | None = None) -> None:
        self.model = model
        self.theta = load_theta(model.model_dir) if theta is None else np.asarray(theta, dtype=float)

    def label(self, score: float) -> str:
        return self.model.label(score)

    def _scored(self, comments: Sequence[str]) -> tuple[Rows, np.ndarray, np.ndarray, np.ndarray]:
        """(rows, probability of each row, score of each comment, share of each row)."""
        rows = rows_of(comments)
        probabilities = self.model.positive_probabilities(rows.texts).astype(np.float64)
        return rows, probabilities, *aggregate(probabilities, rows, self.theta, len(comments))

    def scores(self, comments: Sequence[str]) -> np.ndarray:
        return self._scored(comments)[2] if comments else np.empty(0)

    def score_batch(self, comments: Sequence[str]) -> list[tuple[float, str]]:
        return [(float(s), self.label(float(s))) for s in self.scores(comments)]

    def analyse_batch(self, comments: Sequence[str]) -> list[CommentSentiment]:
        if not comments:
            return []
        rows, probabilities, scores, shares = self._scored(comments)
        first_rows = np.searchsorted(rows.comment, np.arange(len(comments)))  # rows are grouped
        results = []
        for index, parts in enumerate(rows.parts):
            score = float(scores[index])
            own = range(first_rows[index], first_rows[index] + len(parts))
            scored = tuple(
                ScoredPart(
                    text=part.text,
                    score=float(probabilities[row]),
                    label=self.label(float(probabilities[row])),
                    weight=float(shares[row]),
                )
                for part, row in zip(parts, own, strict=True)
            )
            results.append(CommentSentiment(score, self.label(score), scored))
        return results
