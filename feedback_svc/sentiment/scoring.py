"""Sentiment scoring behind a small protocol, so the model can be swapped.

    scorer = load_scorer(settings)
    scorer.score_batch(["Loved it!", "Too scary"])   # [(0.99, "positive"), (0.02, "negative")]

The service scores with the shipped ONNX model (feedback_svc/sentiment/model.py, `SentimentModel`,
files in feedback_svc/models/sentiment/) through `CommentScorer` (feedback_svc/sentiment/comment_sentiment.py:
the comment's parts and the whole comment, weighted by the fitted comment_weights.json). Without
the model files it does not start: silently
scoring with something else would change every stored score and label. VADER stays here as
the evaluation baseline (`python -m feedback_svc.offline.evaluate`). Settings:

- `settings.extra["sentiment_scorer"] = "package.module:Factory"`: any other implementation;
- `settings.extra["sentiment_model_dir"]` or SV_SENTIMENT_MODEL_DIR: where the model files are
  (default: the package's);
- `settings.extra["sentiment_threads"]` or SV_SENTIMENT_THREADS: onnxruntime threads (default 1:
  the analysis must leave the cores to SubmitFeedback, see analysis.py).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Protocol

from common.settings import Settings
from feedback_svc.sentiment.comment_sentiment import CommentSentiment

LABELS = ("negative", "neutral", "positive")
MODEL_FILES = ("model.onnx", "tokenizer.json", "comment_weights.json")


class SentimentScorer(Protocol):
    def score_batch(self, texts: list[str]) -> list[tuple[float, str]]:
        """(probability that the text is positive, 0..1; label negative/neutral/positive) per text."""
        ...


def analyse_with(scorer: SentimentScorer, texts: list[str]) -> list[CommentSentiment]:
    """Score and parts per text; a scorer without `analyse_batch` (a plugged-in one) gives no parts."""
    analyse = getattr(scorer, "analyse_batch", None)
    if analyse is not None:
        return analyse(texts)
    return [CommentSentiment(score, label, ()) for score, label in scorer.score_batch(texts)]


class ModelMissing(RuntimeError):
    """The sentiment model files are not where the service looks for them."""


class VaderScorer:
    """VADER (rule-based, English, tuned for short social-media text): the evaluation baseline.

    Its compound score in [-1, 1] is mapped linearly to [0, 1]; the label uses
    VADER's own ±0.05 thresholds.
    """

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()

    def score_batch(self, texts: list[str]) -> list[tuple[float, str]]:
        out = []
        for text in texts:
            compound = self._analyzer.polarity_scores(text)["compound"]
            label = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
            out.append((round((compound + 1) / 2, 4), label))
        return out


def load_model(model_dir: str | Path | None = None, threads: int = 1) -> SentimentScorer:
    """The comment scorer over the ONNX model, or ModelMissing naming the directory and how to
    get the files."""
    from feedback_svc.sentiment.comment_sentiment import CommentScorer
    from feedback_svc.sentiment.model import DEFAULT_MODEL_DIR, SentimentModel

    folder = Path(model_dir) if model_dir else DEFAULT_MODEL_DIR
    missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise ModelMissing(
            f"sentiment model not found: {', '.join(missing)} missing in {folder}. Ship the files of"
            " feedback_svc/models/sentiment/ (branch `sentiment`) or rebuild them with"
            " `python -m feedback_svc.offline.train_sentiment --out DIR` and"
            " `python -m feedback_svc.offline.fit_comment_weights --model-dir DIR`, and point"
            " SV_SENTIMENT_MODEL_DIR at DIR if it is elsewhere"
        )
    return CommentScorer(SentimentModel(folder, threads=threads))


def model_dir_of(settings: Settings) -> Path | None:
    """The folder of the ONNX model the service scores with; None when another scorer is set."""
    if settings.extra.get("sentiment_scorer"):
        return None
    from feedback_svc.sentiment.model import DEFAULT_MODEL_DIR

    configured = settings.extra.get("sentiment_model_dir") or os.environ.get("SV_SENTIMENT_MODEL_DIR")
    return Path(configured) if configured else DEFAULT_MODEL_DIR


def load_scorer(settings: Settings) -> SentimentScorer:
    configured = settings.extra.get("sentiment_scorer")
    if configured:
        module, _, name = configured.partition(":")
        return getattr(importlib.import_module(module), name)()
    threads = settings.extra.get("sentiment_threads") or os.environ.get("SV_SENTIMENT_THREADS") or 1
    return load_model(model_dir_of(settings), int(threads))
