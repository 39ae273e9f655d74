"""The seed's feedback entry, sent verbatim through the real gateway, is read back as a satisfied
parent's comment with the ending as its complaint (issue 15)."""

from __future__ import annotations

import asyncio
import time

# The seed's Feedback Entry (seed/spec "Feedback Entry"), byte for byte.
SEED_FEEDBACK = """{
  "feedback_id": "feedback-987654",
  "user_id": "user-789012",
  "story_id": "story-123456",
  "timestamp": "2025-03-20T16:45:00Z",
  "rating": 4,
  "comment": "My son loved the story but thought the ending was a bit confusing.",
  "categories": ["plot", "ending"],
  "sentiment_score": 0.65,
  "child_age": 7,
  "device_type": "tablet"
}"""


async def _find(http, gateway_url: str, story_id: str, feedback_id: str) -> dict | None:
    """The entry from the story's pages (other tests give this story newer feedback)."""
    token = ""
    while True:
        query = f"page_size=100&page_token={token}" if token else "page_size=100"
        async with http.get(f"{gateway_url}/api/feedback/{story_id}?{query}") as resp:
            assert resp.status == 200, await resp.text()
            page = await resp.json()
        found = [f for f in page["feedback"] if f["feedback_id"] == feedback_id]
        if found:
            return found[0]
        token = page["next_page_token"]
        if not token:
            return None


async def _analysed(http, gateway_url: str, story_id: str, feedback_id: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = await _find(http, gateway_url, story_id, feedback_id)
        if found and found["analyzed"]:
            return found
        assert time.monotonic() < deadline, f"{feedback_id} not analysed within {timeout} s: {found}"
        await asyncio.sleep(0.05)


async def test_the_seed_comment_is_not_negative_and_its_parts_name_the_ending(http, gateway_url):
    headers = {"Content-Type": "application/json"}
    async with http.post(f"{gateway_url}/api/feedback", data=SEED_FEEDBACK, headers=headers) as resp:
        assert resp.status == 200, await resp.text()

    got = await _analysed(http, gateway_url, "story-123456", "feedback-987654")

    assert got["sentiment_label"] in ("positive", "neutral")
    assert 0.5 < got["sentiment_score"] < 0.9  # a satisfied parent with a complaint, not a rave
    parts = got["parts"]
    assert [p["text"] for p in parts[:2]] == [
        "My son loved the story",
        "thought the ending was a bit confusing.",
    ]
    praise, complaint = parts[0], parts[1]
    assert praise["sentiment_label"] == "positive"
    assert complaint["sentiment_label"] == "negative" and complaint["aspects"] == ["ending"]
    # The hedged complaint ("a bit") counts for less than the praise.
    assert complaint["weight"] < praise["weight"]
    assert {"aspect": "ending", "polarity": "negative", "evidence": "confusing"} in got["aspects"]
