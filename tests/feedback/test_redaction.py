"""Contact details never reach the database or the search index."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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


# Property checks: whatever the exact shape, nothing of the contact detail survives.

_LOCAL = st.from_regex(r"[a-z0-9](?:[a-z0-9._+-]{0,18}[a-z0-9])?", fullmatch=True)
_LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_TLD = st.sampled_from(["com", "org", "net", "co.uk", "de", "fr", "io", "app"])
_AROUND = st.sampled_from(["", "Lovely story! ", "contact me: ", "(", "my mail is "])
_AFTER = st.sampled_from(["", ".", " thanks", ")", ", bye"])


@settings(max_examples=200, deadline=None)
@given(local=_LOCAL, domain=_LABEL, tld=_TLD, before=_AROUND, after=_AFTER)
def test_any_plain_email_is_removed(local, domain, tld, before, after):
    address = f"{local}@{domain}.{tld}"
    result = redact(before + address + after)
    assert "@" not in result.text
    assert "email" in result.kinds
    assert result.text == before + "[email]" + after


_GROUPS = st.lists(st.integers(min_value=2, max_value=4), min_size=2, max_size=5)


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.sampled_from(["", "+1 ", "+44 ", "+33 ", "0049 ", "+86-", "(555) "]),
    groups=_GROUPS,
    separator=st.sampled_from([" ", "-", ".", " - "]),
    digits=st.data(),
    before=st.sampled_from(["", "call me on ", "Loved it, my number: ", "text "]),
    after=_AFTER,
)
def test_any_phone_number_of_8_to_15_digits_is_removed(prefix, groups, separator, digits, before, after):
    body = separator.join(digits.draw(st.from_regex(rf"[0-9]{{{n}}}", fullmatch=True)) for n in groups)
    number = prefix + body
    total = sum(c.isdigit() for c in number)
    if not 8 <= total <= 15:
        return
    result = redact(before + number + after)
    assert not any(c.isdigit() for c in result.text), result.text
    assert "phone" in result.kinds
