"""Content quality (Bayesian), suggestions and the feedback summary."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from storyverse.feedback.v1 import feedback_service_pb2 as pb

from feedback_svc.quality import (
    Complaint,
    Stats,
    StoryMeta,
    bayesian_average,
    quality_scores,
    score,
    suggestions,
)
from tests.feedback.conftest import new_id, record_story, settled, submit


def stats(ratings: list[int], sentiment: float = 0.7, problems: int = 0) -> Stats:
    return Stats(len(ratings), float(sum(ratings)), len(ratings), sentiment * len(ratings), problems)


def test_one_rating_does_not_dominate():
    assert bayesian_average(5, 1, prior_mean=3.5) == pytest.approx((5 * 3.5 + 5) / 6)
    assert bayesian_average(0, 0, prior_mean=3.5) == 3.5
    # Many ratings: the data wins over the prior.
    assert bayesian_average(4.8 * 500, 500, prior_mean=3.5) == pytest.approx(4.787, abs=1e-3)


def test_a_single_five_star_story_ranks_below_a_consistently_good_one():
    per_story = {
        "lucky": stats([5]),
        "solid": stats([5, 5, 4, 5, 5, 5, 4, 5, 5, 5, 5, 5, 4, 5, 5, 5, 5, 4, 5, 5]),
        "poor": stats([2, 1, 3, 2, 2, 1, 2, 3], sentiment=0.2, problems=6),
    }
    scores = {q.key: q for q in quality_scores(per_story, {}) if q.scope == "story"}
    assert scores["solid"].score > scores["lucky"].score > scores["poor"].score
    assert scores["lucky"].bayesian_rating < 4.5
    assert scores["lucky"].ratings == 1


def test_long_lists_keep_the_best_and_the_worst():
    per_story = {f"good{i:02d}": stats([5] * (i + 1)) for i in range(15)}
    per_story |= {f"bad{i:02d}": stats([1] * (i + 1), sentiment=0.2) for i in range(15)}
    listed = [q.key for q in quality_scores(per_story, {}) if q.scope == "story"]
    assert len(listed) == 20
    assert listed[0] == "good14" and listed[-1] == "bad14"  # most evidence, either way
    assert sum(key.startswith("good") for key in listed) == 10


def test_problems_and_sentiment_lower_the_score():
    overall = stats([4] * 100, sentiment=0.6, problems=20)
    clean, _ = score(stats([4] * 20, sentiment=0.8, problems=0), overall)
    troubled, _ = score(stats([4] * 20, sentiment=0.3, problems=15), overall)
    assert 0 <= troubled < clean <= 100


def test_scores_per_universe_character_theme_and_combination():
    meta = {
        "s1": StoryMeta(
            ["dragon-ball", "toy-story"], ["goku", "woody"], "friendship", "dragon-ball+toy-story"
        ),
        "s2": StoryMeta(["toy-story"], ["woody"], "courage", None),
    }
    found = {(q.scope, q.key): q for q in quality_scores({"s1": stats([5, 5]), "s2": stats([2, 3])}, meta)}
    assert found[("universe", "toy-story")].ratings == 4
    assert found[("universe", "dragon-ball")].ratings == 2
    assert found[("character", "woody")].ratings == 4
    assert found[("theme", "friendship")].score > found[("theme", "courage")].score
    assert found[("combination", "dragon-ball+toy-story")].ratings == 2
    assert ("combination", "toy-story") not in found  # one universe is not a combination


def test_suggestion_text_names_the_combination_the_problem_and_the_count():
    meta = {
        f"s{i}": StoryMeta(["dragon-ball", "toy-story"], [], "friendship", "dragon-ball+toy-story")
        for i in range(3)
    }
    complaints = [Complaint(f"s{i % 3}", "ending", "confusing") for i in range(23)]
    complaints += [Complaint("s0", "ending", "abrupt"), Complaint("s1", "illustrations", "blurry")]
    found = suggestions(complaints, {"s0": 20, "s1": 20, "s2": 20}, meta)
    assert found[0] == "Stories combining Dragon Ball and Toy Story: endings often confusing (24 comments)"
    assert "Stories with the theme friendship: endings often confusing (24 comments)" in found
    assert not any("illustrations" in s for s in found)  # one comment is not a pattern


def test_rare_problems_in_a_large_group_make_no_suggestion():
    meta = {"s": StoryMeta(["a", "b"], [], None, "a+b")}
    assert suggestions([Complaint("s", "plot", "boring")] * 5, {"s": 100}, meta) == []


async def test_summary_end_to_end(stub, db, analytics_stub, pipeline):
    tag = new_id("u").split("-")[1][:6]
    universes = [f"pirates-{tag}", f"unicorns-{tag}"]
    stories = [new_id("story") for _ in range(2)]
    for story in stories:
        await record_story(analytics_stub, db, story, universes, [f"captain-{tag}"], f"kindness-{tag}")
    confusing = [
        "The ending was confusing, my son asked what happened.",
        "Lovely pictures but the ending was confusing.",
        "We didn't get the ending, so confusing.",
        "Ending was confusing and rushed.",
    ]
    sent = []
    for i, comment in enumerate(confusing):
        sent.append(
            await submit(
                stub, story_id=stories[i % 2], comment=comment, rating=3, child_age=4, platform="android"
            )
        )
    sent.append(
        await submit(
            stub,
            story_id=stories[0],
            comment="Beautiful illustrations!",
            rating=5,
            child_age=4,
            platform="android",
        )
    )
    await settled(pipeline, db, [s.feedback_id for s in sent])

    today = datetime.now(UTC).date().isoformat()
    summary = await stub.GetFeedbackSummary(pb.GetFeedbackSummaryRequest(start_date=today, end_date=today))
    pretty = f"Pirates {tag.capitalize()} and Unicorns {tag.capitalize()}"
    assert f"Stories combining {pretty}: endings often confusing (4 comments)" in summary.suggestions

    one = await stub.GetFeedbackSummary(pb.GetFeedbackSummaryRequest(story_id=stories[0]))
    assert one.count == 3
    assert list(one.rating_distribution) == [0, 0, 2, 0, 1]
    assert one.average_rating == pytest.approx(11 / 3, abs=1e-3)
    assert 0 < one.average_sentiment < 1
    labels = await db.fetch("SELECT sentiment_label FROM feedback WHERE story_id = $1", stories[0])
    by_label = Counter(r["sentiment_label"] for r in labels)
    assert list(one.sentiment_distribution) == [by_label[k] for k in ("negative", "neutral", "positive")]
    assert sum(one.sentiment_distribution) == 3  # every comment analysed and labelled
    problems = {p.aspect: (p.negative, p.positive) for p in one.top_problems}
    assert problems["ending"] == (2, 0)
    assert problems["illustrations"][1] == 1
    assert one.top_problems[0].aspect == "ending"
    scopes = {(q.scope, q.key) for q in one.quality}
    assert ("story", stories[0]) in scopes and ("combination", "+".join(sorted(universes))) in scopes
    assert all(q.ratings == 3 for q in one.quality)

    trend = await stub.GetFeedbackSummary(pb.GetFeedbackSummaryRequest(age_group="3-5", platform="android"))
    assert trend.satisfaction_trend
    assert {(p.age_group, p.platform) for p in trend.satisfaction_trend} == {("3-5", "android")}
    point = next(p for p in trend.satisfaction_trend if p.date == today)
    assert point.count >= 5
    assert point.sentiment_count == await db.fetchval(
        "SELECT count(sentiment_score) FROM feedback WHERE age_group = '3-5' AND platform = 'android'"
        " AND ts >= $1::date AND ts < $1::date + 1",
        datetime.now(UTC).date(),
    )


async def test_summary_refuses_an_inverted_period(stub):
    import grpc

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetFeedbackSummary(
            pb.GetFeedbackSummaryRequest(start_date="2025-03-02", end_date="2025-03-01")
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
