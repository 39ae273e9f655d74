"""Sentiment scoring behind a small protocol, so the model can be swapped.

    scorer = load_scorer(settings)
    scorer.score_batch(["Loved it!", "Too scary"])   # [(0.82, "positive"), (0.21, "negative")]

The trained ONNX model (feedback_svc/sentiment.py, `SentimentModel`, branch
`sentiment`) is used when it is present. Until then, and wherever it cannot be
loaded, a VADER lexicon scorer stands in. `settings.extra["sentiment_scorer"] =
"package.module:Factory"` picks any other implementation (tests, experiments).
"""

from __future__ import annotations

import importlib
import logging
from typing import Protocol

from common.settings import Settings

log = logging.getLogger(__name__)
LABELS = ("negative", "neutral", "positive")


class SentimentScorer(Protocol):
    def score_batch(self, texts: list[str]) -> list[tuple[float, str]]:
        """(probability that the text is positive, 0..1; label negative/neutral/positive) per text."""
        ...


class VaderScorer:
    """VADER (rule-based, English, tuned for short social-media text) as a stand-in model.

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


def load_scorer(settings: Settings) -> SentimentScorer:
    configured = settings.extra.get("sentiment_scorer")
    if configured:
        module, _, name = configured.partition(":")
        return getattr(importlib.import_module(module), name)()
    try:
        from feedback_svc.sentiment import SentimentModel  # type: ignore[import-not-found]
    except ImportError:
        log.warning("sentiment model not installed, using the VADER stand-in")
        return VaderScorer()
    return SentimentModel()
