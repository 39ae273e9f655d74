"""Contact details never reach the database or the search index."""

from __future__ import annotations

import pytest
from storyverse.feedback.v1 import feedback_service_pb2 as pb

from feedback_svc.redaction import redact
from tests.feedback.conftest import entry, new_id


@pytest.mark.parametrize(
    ("text", "kind", "secret"),
    [
        ("write to jo.smith+kids@example.co.uk please", "email", "jo.smith+kids@example.co.uk"),
        ("MAIL: Parent_2019@Gmail.COM", "email", "Parent_2019@Gmail.COM"),
        ("jo dot smith at gmail dot com", "email", "gmail dot com"),
        ("reach me: jo [at] mail [dot] com", "email", "[at] mail"),
        ("call +44 20 7946 0958 anytime", "phone", "7946 0958"),
        ("my number is (555) 123-4567.", "phone", "123-4567"),
        ("555.123.4567", "phone", "555.123.4567"),
        ("+1-202-555-0143", "phone", "555-0143"),
        ("appelez le 06 12 34 56 78", "phone", "06 12 34 56 78"),
        ("+33 6 12 34 56 78", "phone", "12 34 56 78"),
        ("UK mobile 07700 900123", "phone", "07700 900123"),
        ("whatsapp 0049 151 23456789", "phone", "23456789"),
        ("text me 5551234", "phone", "5551234"),
        ("see https://evil.example.com/x?y=1 for more", "url", "evil.example.com"),
        ("www.kids-stories.org/page", "url", "kids-stories"),
        ("short link bit.ly/abc123!", "url", "abc123"),
        ("visit mysite.com", "url", "mysite.com"),
        ("follow @kidsmom_22 on insta", "handle", "kidsmom_22"),
    ],
)
def test_contact_details_are_replaced(text, kind, secret):
    result = redact(text)
    assert kind in result.kinds
    assert secret not in result.text
    assert f"[{kind}]" in result.text


@pytest.mark.parametrize(
    "text",
    [
        "Rated 5/5, great for 3-5 year olds.",
        "We read it in 2023 and again 2024 2025.",
        "Bedtime at 7:30, read on 12/03/2025.",
        "Page 12 of 40, took 15 minutes.",
        "The end.Me and my son loved it. Looked at it. Me too",
        "My 10 year old gave it 1000000 stars",
        "She asked at bedtime for more dot to dot pages",
    ],
)
def test_ordinary_text_is_kept(text):
    result = redact(text)
    assert result.text == text
    assert not result.redacted


def test_sentence_punctuation_survives():
    assert redact("Loved it, see www.example.com.").text == "Loved it, see [url]."
    assert redact("Call me (555) 123-4567).").text.startswith("Call me [phone]")


SECRETS = {
    "email": "parent.jones@example.org",
    "phone": "+44 7700 900456",
    "url": "https://my-blog.example.com/review",
    "handle": "@storymum",
}


async def test_stored_row_and_search_never_contain_contact_details(stub, db):
    story = new_id("story")
    comment = (
        f"Lovely dragon story! Email me at {SECRETS['email']} or call {SECRETS['phone']}, "
        f"my review is on {SECRETS['url']} and I'm {SECRETS['handle']} everywhere."
    )
    sent = entry(story_id=story, comment=comment)
    reply = await stub.SubmitFeedback(pb.SubmitFeedbackRequest(feedback=sent))
    assert reply.created and reply.redacted
    row = await db.fetchrow(
        "SELECT comment, redacted, search::text AS search FROM feedback WHERE feedback_id = $1",
        sent.feedback_id,
    )
    assert row["redacted"]
    stored = row["comment"] + " " + row["search"]
    for secret in [*SECRETS.values(), "parent.jones", "900456", "my-blog", "storymum", "jones"]:
        assert secret.lower() not in stored.lower(), secret
    assert "[email]" in row["comment"] and "[phone]" in row["comment"] and "[url]" in row["comment"]
    for secret in ["parent.jones@example.org", "7700 900456", "my-blog.example.com", "storymum", "jones"]:
        found = await stub.SearchFeedback(pb.SearchFeedbackRequest(q=secret, story_id=story))
        assert not found.hits, secret
    # The comment itself is still findable by its ordinary words.
    found = await stub.SearchFeedback(pb.SearchFeedbackRequest(q="dragon", story_id=story))
    assert [h.feedback.feedback_id for h in found.hits] == [sent.feedback_id]
    assert SECRETS["email"] not in found.hits[0].feedback.comment
