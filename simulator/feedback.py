"""Parents' feedback on a story: a rating, a comment in varied words, its categories.

Comments are assembled from small templated parts (an opener that carries the
overall sentiment, one to three remarks about aspects of the story, a closer),
so that sentiment and aspect models later have realistic, mixed text to work on:
praise for illustrations, confusing endings, stories too long for a toddler,
narration, crashes, and rare safety reports about frightening scenes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SAFETY_SHARE = 0.005  # of feedback entries: a parent reports frightening or unsuitable content
NO_COMMENT_SHARE = 0.15  # rating only

OPENERS = {
    "positive": [
        "We loved it!",
        "Absolutely wonderful.",
        "Such a lovely story.",
        "Brilliant, thank you.",
        "Five stars from our house.",
        "What a fun story to make together.",
        "Really great experience.",
    ],
    "mixed": [
        "It was okay.",
        "Pretty good overall, with a couple of issues.",
        "Nice idea, but not perfect.",
        "Some parts were great, others less so.",
        "Decent story.",
    ],
    "negative": [
        "Disappointing this time.",
        "Not great, unfortunately.",
        "We didn't enjoy this one.",
        "This one didn't work for us.",
        "Quite frustrating.",
    ],
}
CLOSERS = {
    "positive": [
        "We'll make another one tomorrow!",
        "Thank you!",
        "Keep it up.",
        "Bedtime favourite now.",
        "",
    ],
    "mixed": ["Hope it gets better.", "We'll try again.", "", ""],
    "negative": ["Please fix this.", "Expected better.", "We may stop using the app.", ""],
}
CHILD = [
    "my daughter",
    "my son",
    "my {age}-year-old",
    "our little one",
    "my kids",
    "my {age} year old",
    "the children",
]

# Remarks per (category, polarity). {child}, {c1}, {c2}, {universe} are filled in.
REMARKS: dict[tuple[str, str], list[str]] = {
    ("characters", "positive"): [
        "{child} loved seeing {c1} and {c2} together.",
        "{c1} was hilarious, {child} laughed the whole time.",
        "{child} adores {c1}, so this was a hit.",
        "Great to see {c1} being so kind.",
    ],
    ("characters", "negative"): [
        "{c1} did not act like {c1} at all.",
        "{child} said {c1} was boring in this one.",
    ],
    ("illustrations", "positive"): [
        "The illustrations are beautiful.",
        "Gorgeous pictures, {child} kept pointing at them.",
        "The artwork of {universe} was stunning.",
        "Lovely, colourful drawings.",
    ],
    ("illustrations", "negative"): [
        "Some pictures did not match the text.",
        "The drawings looked a bit blurry on our screen.",
    ],
    ("ending", "positive"): ["The ending was sweet.", "Loved how it wrapped up."],
    ("ending", "negative"): [
        "The ending was confusing.",
        "{child} didn't understand the ending.",
        "The ending felt rushed and confusing.",
        "It just stopped, the ending made no sense to us.",
        "Confusing ending, we had to read it twice.",
    ],
    ("plot", "positive"): [
        "Mixing {universe} with the others made a really creative plot.",
        "The story flowed nicely from start to finish.",
    ],
    ("plot", "negative"): [
        "The plot jumped around too much.",
        "Too many things happening at once for {child}.",
    ],
    ("length", "positive"): ["Perfect length for bedtime."],
    ("length", "negative"): [
        "A bit too long for {child}.",
        "Way too short, it was over before it started.",
    ],
    ("reading_level", "positive"): ["Just the right words for {child} to read alone."],
    ("reading_level", "negative"): [
        "Some words were too hard for {child}.",
        "The text felt too babyish for {child}.",
    ],
    ("voice_narration", "positive"): ["The narrator's voice is so soothing.", "Great narration voice."],
    ("voice_narration", "negative"): [
        "The narration sounded robotic.",
        "The voice narration kept cutting out.",
    ],
    ("technical_problem", "negative"): [
        "The app crashed while we were creating it.",
        "It froze on the last page and we lost the story.",
        "Loading took forever.",
        "The save button didn't work the first time.",
    ],
}
SAFETY_REMARKS = [
    ("scary_content", "The monster scene frightened my daughter and she couldn't sleep."),
    ("scary_content", "Far too scary for a {age}-year-old, {child} was in tears."),
    ("scary_content", "The dark cave part really scared my son, please be careful with young kids."),
    (
        "inappropriate_content",
        "One character said something mean and rude that I don't want {child} repeating.",
    ),
    ("inappropriate_content", "There was a violent part that is not okay for children."),
]


@dataclass(frozen=True)
class StoryFacts:
    """What a parent can comment on."""

    story_id: str
    universes: list[str]
    character_names: list[str]
    universe_names: list[str]
    completed: bool
    affinity: float  # how well the story matched the child's tastes (1.0 = indifferent)
    creation_time: float
    narrated: bool


def _polarity(rating: int) -> str:
    return "positive" if rating >= 4 else "mixed" if rating == 3 else "negative"


def draw_rating(rng: random.Random, story: StoryFacts) -> int:
    # Liked content rates higher; an abandoned story rates lower.
    mean = 3.9 + 0.6 * max(-1.5, min(1.0, story.affinity - 1.0))
    if not story.completed:
        mean -= 1.2
    return max(1, min(5, round(rng.gauss(mean, 0.9))))


def _aspects(rng: random.Random, rating: int, story: StoryFacts, age: int) -> list[tuple[str, str]]:
    """Aspects the parent mentions, with their polarity; lower ratings come with problems."""
    aspects: list[tuple[str, str]] = []
    good = rating >= 4
    # Confusing endings: more likely when three universes are mixed.
    if rng.random() < (0.05 if good else 0.22) + 0.04 * (len(story.universes) - 1):
        aspects.append(("ending", "negative"))
    if rng.random() < (0.30 if good else 0.08):
        aspects.append(("illustrations", "positive" if good or rng.random() < 0.5 else "negative"))
    if rng.random() < 0.35:
        aspects.append(("characters", "positive" if good else "negative"))
    if rng.random() < 0.12:
        aspects.append(("plot", "positive" if good else "negative"))
    if rng.random() < 0.10 or (age <= 5 and story.creation_time > 900 and rng.random() < 0.4):
        aspects.append(("length", "positive" if good else "negative"))
    if rng.random() < 0.08:
        aspects.append(("reading_level", "positive" if good else "negative"))
    if story.narrated and rng.random() < 0.25:
        aspects.append(("voice_narration", "positive" if good else "negative"))
    if not good and rng.random() < 0.15:
        aspects.append(("technical_problem", "negative"))
    if not aspects and not good:
        aspects.append(("plot", "negative"))
    rng.shuffle(aspects)
    return aspects[:3]


def write_feedback(rng: random.Random, age: int, story: StoryFacts) -> tuple[int, str, list[str]]:
    """A rating, a comment and the comment's categories for one story."""
    child = rng.choice(CHILD).format(age=age)
    names = story.character_names or ["the hero"]
    fill = {
        "child": child,
        "age": age,
        "c1": names[0],
        "c2": names[1] if len(names) > 1 else names[0],
        "universe": rng.choice(story.universe_names),
    }
    if rng.random() < SAFETY_SHARE:
        category, text = rng.choice(SAFETY_REMARKS)
        rating = rng.choice([1, 1, 2])
        return rating, _capitalise(text.format(**fill)), [category]

    rating = draw_rating(rng, story)
    if rng.random() < NO_COMMENT_SHARE:
        return rating, "", []
    mood = _polarity(rating)
    aspects = _aspects(rng, rating, story, age)
    parts = [rng.choice(OPENERS[mood])]
    if mood == "mixed" and aspects:
        # Mixed reviews praise one thing and complain about another.
        aspects = [
            (a, "positive" if i == 0 and a != "technical_problem" else p) for i, (a, p) in enumerate(aspects)
        ]
    for aspect, polarity in aspects:
        options = REMARKS.get((aspect, polarity)) or REMARKS[(aspect, "negative")]
        parts.append(_capitalise(rng.choice(options).format(**fill)))
    closer = rng.choice(CLOSERS[mood])
    if closer:
        parts.append(closer)
    comment = " ".join(parts)
    if rng.random() < 0.1:
        comment = comment.lower()  # parents typing quickly on a phone
    return rating, comment, sorted({a for a, _ in aspects})


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]
