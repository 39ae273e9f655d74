"""Cutting parent comments into parts, and the cues of each part (feedback_svc.sentiment.comment_parts)."""

from __future__ import annotations

import pytest

from feedback_svc.sentiment.comment_parts import CONCESSION, CONTRAST, EXCEPTION, MAIN, split


def texts_and_roles(comment: str) -> list[tuple[str, str]]:
    return [(p.text, p.role) for p in split(comment)]


def test_the_seed_comment_is_praise_then_a_hedged_contrast() -> None:
    praise, complaint = split("My son loved the story but thought the ending was a bit confusing.")
    assert (praise.text, praise.role, praise.hedged, praise.intense) == (
        "My son loved the story",
        MAIN,
        False,
        True,
    )
    assert (complaint.text, complaint.role, complaint.hedged) == (
        "thought the ending was a bit confusing.",
        CONTRAST,
        True,
    )


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # sentences
        (
            "We really enjoyed it. The narrator spoke slightly too fast.",
            [("We really enjoyed it.", MAIN), ("The narrator spoke slightly too fast.", MAIN)],
        ),
        # a concession after the main clause, and one that opens the sentence
        (
            "Such a charming tale, although a couple of words were hard.",
            [("Such a charming tale", MAIN), ("a couple of words were hard.", CONCESSION)],
        ),
        (
            "Although the lesson was good, the story dragged on.",
            [("the lesson was good", CONCESSION), ("the story dragged on.", MAIN)],
        ),
        # exceptions; "apart from that" points back and cuts nothing
        (
            "Absolutely loved it, apart from the ending being a touch sad.",
            [("Absolutely loved it", MAIN), ("the ending being a touch sad.", EXCEPTION)],
        ),
        ("Apart from that it was lovely.", [("Apart from that it was lovely.", MAIN)]),
        # a trailing "though" makes its comma clause the contrast
        (
            "She loved it, the ending was slightly abrupt though.",
            [("She loved it", MAIN), ("the ending was slightly abrupt", CONTRAST)],
        ),
        # a sentence that opens with "But" is a contrast
        (
            "Great pictures. But the story was far too long.",
            [("Great pictures.", MAIN), ("the story was far too long.", CONTRAST)],
        ),
        # an aside after a comma
        (
            "My twins adored the pirates, only wish there were more pages.",
            [("My twins adored the pirates", MAIN), ("only wish there were more pages.", MAIN)],
        ),
        # ", yet" is a contrast, "not yet" is not
        (
            "It looked lovely, yet nothing happened.",
            [("It looked lovely", MAIN), ("nothing happened.", CONTRAST)],
        ),
        ("We have not yet finished it.", [("We have not yet finished it.", MAIN)]),
    ],
)
def test_cut_points(comment: str, expected: list[tuple[str, str]]) -> None:
    assert texts_and_roles(comment) == expected


@pytest.mark.parametrize(
    "comment",
    [
        "Nothing but fun from start to finish.",
        "It was anything but boring.",
        "Not only funny but also kind.",
        "A lovely, gentle story.",
    ],
)
def test_no_cut_where_but_does_not_contrast(comment: str) -> None:
    (part,) = split(comment)
    assert part.text == comment and part.role == MAIN


def test_cues_of_each_part() -> None:
    parts = split("Excellent story! Please make the text bigger. The middle was a tiny bit slow.")
    assert [(p.intense, p.request, p.hedged) for p in parts] == [
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]
    (minor_compliment,) = [p for p in split("My son didn't like it. The only good part was the cat.")][1:]
    assert minor_compliment.hedged


def test_parts_are_slices_of_the_comment() -> None:
    comment = "  Lovely story;   the font is a bit small, please fix!\nOtherwise perfect.  "
    parts = split(comment)
    assert len(parts) == 4
    for part in parts:
        assert comment[part.start : part.end] == part.text
        assert part.text == part.text.strip(" ,;:-")


@pytest.mark.parametrize("comment", ["", "   ", "...", "!!"])
def test_no_words_no_parts(comment: str) -> None:
    assert split(comment) == []


def test_a_comment_without_cut_points_is_one_part_holding_all_of_it() -> None:
    comment = "  Best story we have read in the app, great job. "
    (part,) = split(comment)
    assert part.text == comment.strip() and part.role == MAIN


@pytest.mark.parametrize(
    ("comment", "sentences"),
    [
        ("Loved it. The end was sad!", 2),
        ("Loved it... mostly. Great", 2),  # an ellipsis does not end a sentence
        ("Mr. Bear and Dr. Seuss fans will love it.", 1),
        ("J. K. Rowling would approve, a bit long though.", 1),
        ("We gave it 4.5 stars.", 1),
        ("Lovely story; the font is a bit small.", 1),  # a semicolon cuts a clause, not a sentence
        ("Lovely story\nfont a bit small", 2),
    ],
)
def test_sentences(comment: str, sentences: int) -> None:
    assert len({p.sentence for p in split(comment)}) == sentences
