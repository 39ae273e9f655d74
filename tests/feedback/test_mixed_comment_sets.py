"""The labelled sets of mixed parent comments: the test set is held out and large enough."""

from __future__ import annotations

from pathlib import Path

from feedback_svc.offline.labelled_data import LABELS, MIXED_KINDS, read_labelled_jsonl

DATA = Path(__file__).resolve().parents[2] / "feedback_svc" / "data"
# What each kind is labelled: a parent who loved it but for a small thing is satisfied.
KIND_LABEL = {
    "praise_minor_complaint": "positive",
    "complaint_minor_praise": "negative",
    "balanced": "neutral",
    "positive": "positive",
    "negative": "negative",
    "neutral": "neutral",
}


def test_the_test_set_holds_at_least_150_mixed_comments_in_both_directions() -> None:
    test = read_labelled_jsonl(DATA / "sentiment_mixed_test.jsonl")
    mixed = [k for k in test.kinds if k in MIXED_KINDS]
    assert len(mixed) >= 150
    assert mixed.count("praise_minor_complaint") >= 50 and mixed.count("complaint_minor_praise") >= 50


def test_labels_follow_the_kinds_and_no_comment_is_in_both_sets() -> None:
    seen: dict[str, str] = {}
    for name in ("sentiment_mixed_dev.jsonl", "sentiment_mixed_test.jsonl"):
        data = read_labelled_jsonl(DATA / name)
        for text, label, kind in zip(data.texts, data.labels, data.kinds, strict=True):
            assert LABELS[label] == KIND_LABEL[kind], text
            key = " ".join(text.lower().split())
            assert key not in seen or seen[key] == name, f"{text!r} is in {seen[key]} and {name}"
            seen[key] = name
