"""Choosing the sentiment scorer: the ONNX model, or a clear refusal without it; VADER's contract."""

from __future__ import annotations

import pytest

from common.settings import Settings
from feedback_svc.sentiment.comment_sentiment import CommentScorer
from feedback_svc.sentiment.model import SentimentModel
from feedback_svc.sentiment.scoring import ModelMissing, VaderScorer, analyse_with, load_model, load_scorer


class FixedScorer:
    def score_batch(self, texts: list[str]) -> list[tuple[float, str]]:
        return [(0.5, "neutral") for _ in texts]


def test_a_configured_factory_wins():
    settings = Settings(extra={"sentiment_scorer": "tests.feedback.test_scoring:FixedScorer"})
    assert isinstance(load_scorer(settings), FixedScorer)


def test_the_onnx_model_scores_comments_by_their_parts():
    scorer = load_scorer(Settings())
    assert isinstance(scorer, CommentScorer) and isinstance(scorer.model, SentimentModel)


def test_a_scorer_without_parts_is_analysed_with_none():
    (result,) = analyse_with(FixedScorer(), ["Loved it, but the ending was a bit confusing."])
    assert (result.score, result.label, result.parts) == (0.5, "neutral", ())
    (result,) = analyse_with(load_model(), ["Loved it, but the ending was a bit confusing."])
    assert len(result.parts) == 2


def test_without_the_model_files_loading_fails_with_a_clear_message(tmp_path):
    with pytest.raises(
        ModelMissing,
        match=r"model\.onnx, tokenizer\.json, comment_weights\.json missing in .*train_sentiment",
    ):
        load_scorer(Settings(extra={"sentiment_model_dir": str(tmp_path)}))


def test_the_model_scores_a_batch_in_order():
    texts = ["We loved it, wonderful!", "Awful and boring, we stopped reading.", ""]
    scores = load_model().score_batch(texts)
    assert len(scores) == len(texts)
    assert all(0.0 <= p <= 1.0 and label in ("negative", "neutral", "positive") for p, label in scores)
    assert scores[0][1] == "positive" and scores[1][1] == "negative"


def test_the_vader_baseline_keeps_the_contract():
    texts = ["We loved it, wonderful!", "Awful and boring.", "It has pages.", ""]
    scores = VaderScorer().score_batch(texts)
    assert len(scores) == len(texts)
    assert all(0.0 <= p <= 1.0 and label in ("negative", "neutral", "positive") for p, label in scores)
    assert [label for _, label in scores] == ["positive", "negative", "neutral", "neutral"]
    assert scores[0][0] > 0.5 > scores[1][0]
