"""Full-text search and paginated listing over gRPC, on PostgreSQL full text."""

from __future__ import annotations

import grpc
import pytest
from storyverse.feedback.v1 import feedback_service_pb2 as pb

from tests.feedback.conftest import new_id, settled, submit


@pytest.fixture
async def corpus(stub, db, pipeline):
    """One story's comments, analysed; returns (story_id, {name: feedback_id})."""
    story = new_id("story")
    comments = {
        "dragons": (
            "Dragons, dragons everywhere! The dragon and the dragon queen were wonderful.",
            5,
            "2025-01-10",
        ),
        "one_dragon": ("A quiet story with one small dragon and lots of gardening.", 4, "2025-01-20"),
        "phrase": ("Honestly the ending was confusing for my son.", 2, "2025-02-05"),
        "reversed": ("Confusing start, but what an ending!", 4, "2025-02-15"),
        "scary_dragon": ("The dragon was too scary, terrible for bedtime.", 1, "2025-03-01"),
        "pirates": ("Pirates and treasure maps, wonderful adventure.", 5, "2025-03-10"),
    }
    ids = {}
    for name, (comment, rating, day) in comments.items():
        sent = await submit(
            stub, story_id=story, comment=comment, rating=rating, timestamp=f"{day}T12:00:00Z", categories=[]
        )
        ids[name] = sent.feedback_id
    await settled(pipeline, db, list(ids.values()))
    return story, ids


async def search(stub, **kwargs) -> pb.SearchFeedbackResponse:
    return await stub.SearchFeedback(pb.SearchFeedbackRequest(**kwargs))


def names(reply, ids) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id[h.feedback.feedback_id] for h in reply.hits]


async def test_more_relevant_comments_rank_first(stub, corpus):
    story, ids = corpus
    reply = await search(stub, q="dragon", story_id=story)
    found = names(reply, ids)
    assert set(found) == {"dragons", "one_dragon", "scary_dragon"}
    assert found[0] == "dragons"
    ranks = [h.rank for h in reply.hits]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] > ranks[-1] > 0


async def test_quoted_phrases_match_word_order(stub, corpus):
    story, ids = corpus
    assert names(await search(stub, q='"ending was confusing"', story_id=story), ids) == ["phrase"]
    both = names(await search(stub, q="ending confusing", story_id=story), ids)
    assert set(both) == {"phrase", "reversed"}


async def test_or_and_excluded_words(stub, corpus):
    story, ids = corpus
    assert set(names(await search(stub, q="pirates or gardening", story_id=story), ids)) == {
        "pirates",
        "one_dragon",
    }
    assert set(names(await search(stub, q="dragon -scary", story_id=story), ids)) == {"dragons", "one_dragon"}


async def test_stemming_finds_other_forms(stub, corpus):
    story, ids = corpus
    assert "dragons" in names(await search(stub, q="dragons", story_id=story), ids)
    assert "scary_dragon" in names(await search(stub, q="dragon", story_id=story), ids)


async def test_snippets_mark_the_matches(stub, corpus):
    story, ids = corpus
    reply = await search(stub, q="treasure", story_id=story)
    assert reply.hits[0].snippet.startswith("Pirates and <b>treasure</b> maps, wonderful adventure")
    reply = await search(stub, q='"ending was confusing"', story_id=story)
    assert "<b>ending</b>" in reply.hits[0].snippet and "<b>confusing</b>" in reply.hits[0].snippet


async def test_filters(stub, corpus):
    story, ids = corpus
    low = await search(stub, q="dragon", story_id=story, max_rating=2)
    assert names(low, ids) == ["scary_dragon"]
    high = await search(stub, q="dragon", story_id=story, min_rating=4, max_rating=5)
    assert set(names(high, ids)) == {"dragons", "one_dragon"}
    january = await search(stub, q="dragon", story_id=story, start_date="2025-01-01", end_date="2025-01-31")
    assert set(names(january, ids)) == {"dragons", "one_dragon"}
    last_day = await search(stub, q="dragon", story_id=story, start_date="2025-03-01", end_date="2025-03-01")
    assert names(last_day, ids) == ["scary_dragon"]  # end_date is inclusive
    negative = await search(stub, q="dragon", story_id=story, sentiment_label="negative")
    assert names(negative, ids) == ["scary_dragon"]
    other_story = await search(stub, q="dragon", story_id=new_id("story"))
    assert not other_story.hits


async def test_search_pages_cover_every_hit_once(stub, db, pipeline):
    story = new_id("story")
    sent = []
    for i in range(7):
        comment = "unicorn " * (i % 3 + 1) + f"magic number {i}"
        sent.append(await submit(stub, story_id=story, comment=comment, categories=[]))
    await settled(pipeline, db, [s.feedback_id for s in sent])
    seen, ranks, token = [], [], ""
    for _ in range(3):
        reply = await search(stub, q="unicorn", story_id=story, page_size=3, page_token=token)
        seen += [h.feedback.feedback_id for h in reply.hits]
        ranks += [h.rank for h in reply.hits]
        token = reply.next_page_token
    assert token == ""
    assert sorted(seen) == sorted(s.feedback_id for s in sent) and len(seen) == 7
    assert ranks == sorted(ranks, reverse=True)
    first = await search(stub, q="unicorn", story_id=story, page_size=3)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await search(stub, q="magic", story_id=story, page_size=3, page_token=first.next_page_token)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_story_feedback_is_listed_newest_first_in_pages(stub):
    story = new_id("story")
    sent = []
    for day in ["2025-05-01", "2025-05-03", "2025-05-02", "2025-05-05", "2025-05-04"]:
        sent.append(await submit(stub, story_id=story, timestamp=f"{day}T08:00:00Z"))
    # Two at the same instant: the feedback id breaks the tie, nothing is skipped.
    sent.append(await submit(stub, story_id=story, timestamp="2025-05-03T08:00:00Z"))
    listed, token, pages = [], "", 0
    while True:
        reply = await stub.ListStoryFeedback(
            pb.ListStoryFeedbackRequest(story_id=story, page_size=2, page_token=token)
        )
        listed += list(reply.feedback)
        pages += 1
        token = reply.next_page_token
        if not token:
            break
    assert pages == 3
    assert len(listed) == 6 and len({f.feedback_id for f in listed}) == 6
    stamps = [f.timestamp for f in listed]
    assert stamps == sorted(stamps, reverse=True)
    assert stamps[0] == "2025-05-05T08:00:00Z"


async def test_a_forged_page_token_is_refused(stub):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListStoryFeedback(
            pb.ListStoryFeedbackRequest(story_id="story-1", page_token="not-a-token")
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"min_rating": 4, "max_rating": 2}, "max_rating"),
        ({"start_date": "2025-02-01", "end_date": "2025-01-01"}, "end_date"),
    ],
)
async def test_contradictory_filters_are_refused(stub, filters, field):
    from common.errors import violations_from_trailers

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await search(stub, q="dragon", **filters)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in violations_from_trailers(caught.value.trailing_metadata())] == [field]
