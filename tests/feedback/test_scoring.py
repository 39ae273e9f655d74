"""Choosing the sentiment scorer, and the VADER stand-in's contract."""

from __future__ import annotations

from common.settings import Settings
from feedback_svc.scoring import VaderScorer, load_scorer


class FixedScorer:
    def score_batch(self, texts: list[str]) -> list[tuple[float, str]]:
        return [(0.5, "neutral") for _ in texts]


def test_a_configured_factory_wins():
    settings = Settings(extra={"sentiment_scorer": "tests.feedback.test_scoring:FixedScorer"})
    assert isinstance(load_scorer(settings), FixedScorer)


def test_without_the_onnx_model_vader_stands_in():
    assert isinstance(load_scorer(Settings()), VaderScorer)


def test_the_stand_in_keeps_the_contract():
    texts = ["We loved it, wonderful!", "Awful and boring.", "It has pages.", ""]
    scores = VaderScorer().score_batch(texts)
    assert len(scores) == len(texts)
    assert all(0.0 <= p <= 1.0 and label in ("negative", "neutral", "positive") for p, label in scores)
    assert [label for _, label in scores] == ["positive", "negative", "neutral", "neutral"]
    assert scores[0][0] > 0.5 > scores[1][0]
