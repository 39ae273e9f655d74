"""The shipped sentiment model on parent comments, and the evaluate command.

Uses the committed ONNX model only: no torch, no shared data.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from feedback_svc.sentiment import aspects
from feedback_svc.sentiment.model import DEFAULT_MODEL_DIR, SentimentModel

REPO_ROOT = Path(__file__).resolve().parents[2]

CLEARLY_POSITIVE = [
    "My daughter absolutely loved this story and asked for it again every night this week.",
    "Beautiful illustrations and a gentle, funny tale. Perfect for bedtime!",
    "The dragon story was wonderful, my son giggled the whole way through.",
    "What a lovely message about friendship. We will definitely read it again.",
    "Great story! The narrator's voice is warm and my twins were captivated.",
    "My kids adore the characters, easily the best story in the app.",
    "Such a sweet and clever book, it made my four-year-old so happy.",
    "Fantastic adventure with a heartwarming ending. Highly recommend.",
]

CLEARLY_NEGATIVE = [
    "Boring and far too long, my son lost interest after two pages.",
    "The story was scary and gave my daughter nightmares. Very disappointed.",
    "Terrible narration, the voice was flat and the audio kept cutting out.",
    "Poorly written, confusing plot and the pictures are ugly.",
    "My kids hated it. A waste of time, we will not read it again.",
    "Dull characters and a pointless story. Not worth it.",
    "This story is awful, it was mean-spirited and made my child cry.",
    "Really disappointing, the ending made no sense and the jokes fell flat.",
]

# Praise and complaint together. Trained on SST-2, the model alone weighs the clause after "but"
# most, so these come out negative or in between; reading them as parents mean them is the comment
# scorer's job (comment_sentiment.py, tests/feedback/test_comment_sentiment.py).
MIXED = [
    "My son loved the story but thought the ending was a bit confusing.",
    "Nice pictures, but the story itself was rather slow and long.",
    "The first half was fun, the second half dragged and my daughter got bored.",
    "Good idea for a story, though some words were too hard for my five-year-old.",
]


@pytest.fixture(scope="module")
def model() -> SentimentModel:
    return SentimentModel(threads=2)


def test_model_files_are_shipped() -> None:
    for name in ("model.onnx", "tokenizer.json", "metadata.json"):
        assert (DEFAULT_MODEL_DIR / name).is_file(), name
    metadata = json.loads((DEFAULT_MODEL_DIR / "metadata.json").read_text())
    # Issue 6 aims at 0.90 on SST-2 dev; the shipped model gives 0.898 (docs/sentiment.md). This guards
    # against shipping a broken or much worse model; VADER gets about 0.63 there.
    assert metadata["sst2_dev"]["accuracy"] >= 0.85
    assert (DEFAULT_MODEL_DIR / "model.onnx").stat().st_size < 25 * 2**20


def test_clear_comments_get_the_right_label(model: SentimentModel) -> None:
    results = model.score_batch(CLEARLY_POSITIVE + CLEARLY_NEGATIVE)
    expected = ["positive"] * len(CLEARLY_POSITIVE) + ["negative"] * len(CLEARLY_NEGATIVE)
    wrong = [
        (text, score, label)
        for text, (score, label), want in zip(
            CLEARLY_POSITIVE + CLEARLY_NEGATIVE, results, expected, strict=True
        )
        if label != want
    ]
    assert not wrong


def test_mixed_comments_score_below_clear_praise_and_keep_their_complaint(model: SentimentModel) -> None:
    positive = [s for s, _ in model.score_batch(CLEARLY_POSITIVE)]
    negative = [s for s, _ in model.score_batch(CLEARLY_NEGATIVE)]
    mixed = [s for s, _ in model.score_batch(MIXED)]
    assert max(mixed) < min(positive)
    assert np.mean(mixed) > np.mean(negative)
    # Where the overall score leans positive ("Good idea ..., though some words were too hard"),
    # the problem report is not lost: it is a negative aspect of the comment.
    for text in MIXED:
        assert any(a.polarity == "negative" for a in aspects.extract(text)), text


def test_scores_are_probabilities_and_labels_follow_thresholds(model: SentimentModel) -> None:
    texts = CLEARLY_POSITIVE + CLEARLY_NEGATIVE + MIXED + ["", "ok", "x" * 5000]
    results = model.score_batch(texts)
    assert len(results) == len(texts)
    for score, label in results:
        assert 0.0 <= score <= 1.0
        assert label == model.label(score)
    assert model.label(0.5) == "neutral"
    assert model.label(0.01) == "negative"
    assert model.label(0.99) == "positive"
    assert model.score_batch([]) == []


def test_a_comments_score_does_not_depend_on_the_comments_scored_with_it(model: SentimentModel) -> None:
    """Per-token int8 scales: alone, reversed, in other batch sizes or on one thread, the same score
    up to float rounding (per-tensor dynamic int8 moved scores by up to 0.66 with the batchmates)."""
    texts = CLEARLY_POSITIVE + MIXED + CLEARLY_NEGATIVE
    batched = model.score_batch(texts)
    single = [model.score_batch([t])[0] for t in texts]
    reversed_ = model.score_batch(texts[::-1])[::-1]
    one_thread_small_batches = SentimentModel(threads=1, batch_size=3).score_batch(texts)
    for other in (single, reversed_, one_thread_small_batches):
        assert [label for _, label in other] == [label for _, label in batched]
        np.testing.assert_allclose([s for s, _ in other], [s for s, _ in batched], rtol=0, atol=1e-5)


def test_evaluate_command_prints_one_json_line(tmp_path: Path) -> None:
    data = tmp_path / "labelled.tsv"
    lines = ["sentence\tlabel"]
    lines += [f"{t}\t1" for t in CLEARLY_POSITIVE] + [f"{t}\t0" for t in CLEARLY_NEGATIVE]
    data.write_text("\n".join(lines) + "\n")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "feedback_svc.offline.evaluate",
            "--data",
            str(data),
            "--threads",
            "1",
            "--repeats",
            "1",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    output = completed.stdout.strip().splitlines()
    assert len(output) == 1
    report = json.loads(output[0])
    assert report["n"] == len(CLEARLY_POSITIVE) + len(CLEARLY_NEGATIVE)
    for result in (report, report["vader"]):
        assert set(result) >= {"accuracy", "macro_f1", "comments_per_s"}
        assert 0.0 <= result["accuracy"] <= 1.0 and 0.0 <= result["macro_f1"] <= 1.0
        assert result["comments_per_s"] > 0
    assert report["accuracy"] == 1.0


def test_evaluate_reads_files_without_header(tmp_path: Path) -> None:
    from feedback_svc.offline.labelled_data import read_labelled_tsv

    data = tmp_path / "plain.tsv"
    data.write_text("great fun\t1\ndull and slow\t0\n")
    assert read_labelled_tsv(data) == (["great fun", "dull and slow"], [1, 0])
    data.write_text("great fun\t1\nno label here\n")
    with pytest.raises(ValueError):
        read_labelled_tsv(data)


def test_serving_and_evaluation_do_not_import_torch() -> None:
    modules = (
        "feedback_svc.sentiment.model, feedback_svc.offline.evaluate, feedback_svc.offline.compare_exports"
    )
    code = f"import sys, {modules}; sys.exit('torch' in sys.modules)"
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True, timeout=120)
