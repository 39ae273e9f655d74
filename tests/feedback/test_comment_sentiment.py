"""One score for a whole comment from its parts (feedback_svc.sentiment.comment_sentiment), the weight
fitting command and the evaluation of the mixed-comment sets. Uses the committed model only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from feedback_svc.sentiment.comment_sentiment import (
    CUES,
    WEIGHTS_FILE,
    CommentScorer,
    aggregate,
    load_theta,
    rows_of,
)
from feedback_svc.sentiment.model import DEFAULT_MODEL_DIR, SentimentModel

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = REPO_ROOT / "feedback_svc" / "data"
SEED_COMMENT = "My son loved the story but thought the ending was a bit confusing."
# Issue 15: read as one text, the model followed the last clause and called these negative.
PRAISE_WITH_A_SMALL_COMPLAINT = [
    SEED_COMMENT,
    "Wonderful lesson about sharing, but the middle part dragged a little",
    "A lovely story about patience, but please fix the typo on page three",
]


@pytest.fixture(scope="module")
def scorer() -> CommentScorer:
    return CommentScorer(SentimentModel(threads=2))


def cue(name: str) -> int:
    return CUES.index(name)


def test_rows_hold_each_part_and_the_whole_comment_once() -> None:
    comments = ["Loved it.", SEED_COMMENT, "", "Great. Too long. Please fix the typo."]
    rows = rows_of(comments)
    assert rows.texts == [
        "Loved it.",
        "My son loved the story",
        "thought the ending was a bit confusing.",
        SEED_COMMENT,
        "",
        "Great.",
        "Too long.",
        "Please fix the typo.",
        "Great. Too long. Please fix the typo.",
    ]
    assert rows.comment.tolist() == [0, 1, 1, 1, 2, 3, 3, 3, 3]
    whole = rows.cues[:, cue("whole")]
    assert whole.tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 1]
    assert rows.cues[2, cue("contrast")] == 1 and rows.cues[2, cue("hedged")] == 1
    assert rows.cues[2, cue("last")] == 1 and rows.cues[1, cue("last")] == 0
    assert rows.cues[7, cue("request")] == 1
    assert [len(p) for p in rows.parts] == [0, 2, 0, 3]
    assert rows.weighed.all()


def test_one_sentence_without_hedges_or_requests_keeps_the_whole_comments_reading(
    scorer: CommentScorer,
) -> None:
    """In "The pictures were pretty, but the story made no sense" the model's whole-text reading
    stands (the clause after "but" decides); its parts are still shown, with no weight."""
    comment = "The pictures were pretty, but the story made no sense."
    rows = rows_of([comment])
    assert rows.weighed.tolist() == [False, False, True]
    (result,) = scorer.analyse_batch([comment])
    assert result.score == pytest.approx(float(scorer.model.positive_probabilities([comment])[0]), abs=1e-6)
    assert [p.weight for p in result.parts] == [0.0, 0.0]
    assert [p.label for p in result.parts] == ["positive", "negative"]
    # Two sentences, a hedge, a request or an exception, and the parts count.
    for weighed in [
        "The pictures were pretty. The story made no sense.",
        "The pictures were pretty, but the story was a bit long.",
        "The pictures were pretty, but please fix the typo.",
        "We loved it, except the app took a while to load.",
    ]:
        assert rows_of([weighed]).weighed.all(), weighed


def test_aggregate_is_the_weighted_mean_of_each_comments_rows() -> None:
    rows = rows_of(["Fine.", SEED_COMMENT])
    probabilities = np.asarray([0.3, 0.99, 0.01, 0.05])
    theta = np.zeros(len(CUES))
    theta[cue("hedged")] = np.log(0.25)  # a hedged part counts a quarter
    theta[cue("whole")] = np.log(0.5)
    scores, shares = aggregate(probabilities, rows, theta, 2)
    weights = np.asarray([1.0, 1.0, 0.25, 0.5])
    expected = (weights[1:] @ probabilities[1:]) / weights[1:].sum()
    np.testing.assert_allclose(scores, [0.3, expected])
    np.testing.assert_allclose(shares, [1.0, *(weights[1:] / weights[1:].sum())])
    for index in range(2):
        assert shares[rows.comment == index].sum() == pytest.approx(1.0)


def test_a_single_part_comment_scores_as_the_model_reads_it(scorer: CommentScorer) -> None:
    texts = ["We loved it, such a sweet story!", "Boring and far too long."]
    np.testing.assert_allclose(scorer.scores(texts), scorer.model.positive_probabilities(texts), atol=1e-7)
    assert [r.parts for r in scorer.analyse_batch(texts)] == [(), ()]


def test_the_seed_comment_is_satisfied_with_the_ending_as_its_complaint(scorer: CommentScorer) -> None:
    (result,) = scorer.analyse_batch([SEED_COMMENT])
    assert result.label in ("positive", "neutral")
    assert 0.5 < result.score < 0.9
    praise, complaint = result.parts
    assert (praise.label, complaint.label) == ("positive", "negative")
    assert complaint.weight < praise.weight


def test_praise_with_a_small_complaint_is_not_negative(scorer: CommentScorer) -> None:
    before = scorer.model.positive_probabilities(PRAISE_WITH_A_SMALL_COMPLAINT)
    after = scorer.score_batch(PRAISE_WITH_A_SMALL_COMPLAINT)
    assert max(before) < 0.05  # what the issue saw
    assert all(label != "negative" for _, label in after), after


def test_clear_comments_keep_their_label(scorer: CommentScorer) -> None:
    results = scorer.score_batch(
        ["My daughter absolutely loved it! The pictures are gorgeous.", "Boring. Far too long and scary."]
    )
    assert [label for _, label in results] == ["positive", "negative"]


def test_a_comments_score_does_not_depend_on_its_batch(scorer: CommentScorer) -> None:
    rows = [json.loads(line) for line in (DATA / "sentiment_mixed_dev.jsonl").read_text().splitlines()]
    texts = [r["text"] for r in rows[:40]]
    together = scorer.scores(texts)
    alone = np.asarray([scorer.scores([t])[0] for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_allclose(scorer.scores(texts[::-1])[::-1], together, atol=1e-5)


def test_the_shipped_weights_name_only_known_cues_and_their_data() -> None:
    fitted = json.loads((DEFAULT_MODEL_DIR / WEIGHTS_FILE).read_text())
    assert set(fitted["theta"]) == set(CUES)
    assert fitted["fitted_on"]["dev"]["file"] == "sentiment_mixed_dev.jsonl"
    assert np.all(np.isfinite(load_theta(DEFAULT_MODEL_DIR)))


def run_module(*args: str) -> list[dict]:
    completed = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return [json.loads(line) for line in completed.stdout.strip().splitlines()]


def test_fit_command_writes_weights_from_the_dev_set_and_refuses_the_test_set(tmp_path: Path) -> None:
    sst2 = tmp_path / "sst2"
    sst2.mkdir()
    weighed = [
        ("a bit long , but a warm and often funny film", 1),
        ("the acting is good . the story is a dull , lifeless mess", 0),
        ("charming throughout , except for a slightly slow middle", 1),
        ("it looks great , but please , someone fix the script", 0),
    ]
    # One sentence without hedges: its parts are not weighed, so the weights cannot change it.
    phrases = [*weighed, ("the plot is thin , although the cast is charming", 1)]
    (sst2 / "train.tsv").write_text("sentence\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in phrases))
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    for name in ("model.onnx", "tokenizer.json"):
        (model_dir / name).symlink_to(DEFAULT_MODEL_DIR / name)
    (fitted,) = run_module(
        "feedback_svc.offline.fit_comment_weights",
        "--sst2",
        str(sst2),
        "--model-dir",
        str(model_dir),
        "--threads",
        "1",
    )
    written = json.loads((model_dir / WEIGHTS_FILE).read_text())
    assert written["theta"] == fitted["theta"] and set(written["theta"]) == set(CUES)
    assert written["fitted_on"]["sst2_train_phrases"]["n"] == len(weighed)
    assert 0.0 <= written["at_fit"]["dev_accuracy"] <= 1.0
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "feedback_svc.offline.fit_comment_weights",
            "--sst2",
            str(sst2),
            "--dev",
            str(DATA / "sentiment_mixed_test.jsonl"),
            "--dry-run",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and "held out" in refused.stderr


def test_evaluate_reports_the_mixed_set_per_kind_beside_the_model_alone() -> None:
    (report,) = run_module(
        "feedback_svc.offline.evaluate",
        "--data",
        str(DATA / "sentiment_mixed_test.jsonl"),
        "--threads",
        "1",
        "--repeats",
        "1",
    )
    assert report["data"] == "sentiment_mixed_test.jsonl" and report["n"] >= 150
    for result in (report, report["model_alone"], report["vader"]):
        assert {"accuracy", "macro_f1", "lean_accuracy", "opposite", "by_kind", "comments_per_s"} <= set(
            result
        )
        assert 0.0 <= result["accuracy"] <= 1.0 and result["comments_per_s"] > 0
        assert sum(k["n"] for k in result["by_kind"].values()) == report["n"]
    assert set(report["by_kind"]) >= {"praise_minor_complaint", "complaint_minor_praise"}
