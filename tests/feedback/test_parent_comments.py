"""Training comments composed from parents' clauses (feedback_svc.offline.parent_comments)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from feedback_svc.offline import parent_comments


def test_composed_comments_are_seeded_and_their_targets_sit_in_the_label_bands() -> None:
    first = parent_comments.compose(500, np.random.default_rng(7))
    assert first == parent_comments.compose(500, np.random.default_rng(7))
    assert len(first) == 500
    targets = {target for _, target in first}
    assert targets <= {t for _, t, _ in parent_comments.TEMPLATES}
    assert min(targets) < 0.35 and max(targets) > 0.65 and any(0.35 <= t <= 0.65 for t in targets)
    for text, _ in first:
        assert "{" not in text and text.strip() == text and text


def test_praise_with_a_minor_complaint_is_trained_as_satisfied() -> None:
    clauses = {
        "praise": ["my daughter was delighted with it"],
        "complaint": ["the story was boring"],
        "minor complaint": ["the ending was a little rushed"],
        "minor compliment": ["the pictures were nice"],
        "neutral": ["we read it before bed"],
    }
    composed = parent_comments.compose(200, np.random.default_rng(1), clauses)
    for text, target in composed:
        lowered = text.lower()
        if "delighted" in lowered and "a little rushed" in lowered:
            assert target > 0.65, text
        if "boring" in lowered and "were nice" in lowered:
            assert target < 0.35, text


def test_clauses_found_in_the_held_out_sets_are_refused(tmp_path: Path) -> None:
    clauses = parent_comments.read_clauses()
    parent_comments.check_held_out(clauses)  # the shipped clauses are clean
    held_out = tmp_path / "test.jsonl"
    held_out.write_text(
        json.dumps({"text": "Wow. My DAUGHTER was delighted with it!", "label": "positive"}) + "\n"
    )
    with pytest.raises(ValueError, match="my daughter was delighted with it"):
        parent_comments.check_held_out(clauses, [held_out])
