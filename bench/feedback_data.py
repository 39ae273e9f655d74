"""Submissions for the feedback surge: unique SubmitFeedbackRequests, serialized before the run.

Ratings, comments and categories come from the simulator's feedback generator
(simulator/feedback.py) over stories of the demo catalog: mixed, templated parent
comments (15 % rating only, 0.5 % safety reports), each request with its own
feedback_id, one of 5,000 users and 2,000 stories, and a timestamp of the last hour.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from storyverse.feedback.v1 import feedback_service_pb2 as pb

from simulator.catalog import load_catalog
from simulator.feedback import StoryFacts, write_feedback

DESCRIPTION = (
    "{n:,} unique SubmitFeedback requests (simulator/feedback.py comments over demo-catalog stories: "
    "{commented:.0%} with a comment, {distinct:,} distinct comments; 5,000 users, 2,000 stories), "
    "serialized before the run"
)
PLATFORMS = (
    ("ios", "tablet"),
    ("ios", "phone"),
    ("android", "phone"),
    ("android", "tablet"),
    ("web", "desktop"),
)


def stories(rng: random.Random, n: int) -> list[StoryFacts]:
    catalog = load_catalog()
    out = []
    for i in range(n):
        universes = rng.sample(catalog.universes, rng.choice((1, 1, 2, 3)))
        characters = [c for u in universes for c in catalog.characters_of(u.id)]
        chosen = rng.sample(characters, min(2, len(characters)))
        out.append(
            StoryFacts(
                story_id=f"story-surge-{i:05d}",
                universes=[u.id for u in universes],
                character_names=[c.name for c in chosen],
                universe_names=[u.name for u in universes],
                completed=rng.random() < 0.8,
                affinity=rng.uniform(0.4, 1.6),
                creation_time=rng.uniform(120, 1500),
                narrated=rng.random() < 0.4,
            )
        )
    return out


def requests(n: int, run_id: str, seed: int = 7) -> tuple[list[str], list[bytes], str]:
    """(feedback ids, serialized requests, a description of the data set)."""
    rng = random.Random(seed)
    facts = stories(rng, 2000)
    now = datetime.now(UTC)
    ids, bodies, comments = [], [], set()
    commented = 0
    for i in range(n):
        story = rng.choice(facts)
        age = rng.randint(3, 12)
        rating, comment, categories = write_feedback(rng, age, story)
        platform, device = rng.choice(PLATFORMS)
        feedback_id = f"fb-{run_id}-{i:07d}"
        ts = now - timedelta(seconds=rng.uniform(0, 3600))
        entry = pb.FeedbackEntry(
            feedback_id=feedback_id,
            user_id=f"user-{rng.randrange(5000):06d}",
            story_id=story.story_id,
            timestamp=ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            rating=rating,
            comment=comment,
            categories=categories,
            child_age=age,
            device_type=device,
            platform=platform,
        )
        ids.append(feedback_id)
        bodies.append(pb.SubmitFeedbackRequest(feedback=entry).SerializeToString())
        commented += bool(comment)
        comments.add(comment)
    description = DESCRIPTION.format(n=n, commented=commented / max(1, n), distinct=len(comments - {""}))
    return ids, bodies, description
