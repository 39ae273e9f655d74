"""Content quality scores and improvement suggestions. Pure: no I/O.

Bayesian average: (C * m + sum of ratings) / (C + n), with m the mean rating of
everything in the period and C = PRIOR_WEIGHT pseudo-ratings, so a story with
one 5-star rating sits near the mean, not at the top.

Score (0..100) = 100 * (0.6 * R + 0.25 * S + 0.15 * (1 - P)) where
  R = (bayesian rating - 1) / 4,
  S = mean sentiment (0..1), shrunk the same way towards the overall mean,
  P = share of comments reporting a problem, shrunk towards the overall share.
Scopes: story, universe, character, theme, combination (sorted universes "a+b").
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

PRIOR_WEIGHT = 5.0
WEIGHTS = (0.6, 0.25, 0.15)
MAX_PER_SCOPE = 20
SCOPES = ("story", "universe", "character", "theme", "combination")


@dataclass
class Stats:
    ratings: int = 0
    rating_sum: float = 0.0
    sentiments: int = 0
    sentiment_sum: float = 0.0
    problem_comments: int = 0

    def add(self, other: Stats) -> None:
        self.ratings += other.ratings
        self.rating_sum += other.rating_sum
        self.sentiments += other.sentiments
        self.sentiment_sum += other.sentiment_sum
        self.problem_comments += other.problem_comments


@dataclass(frozen=True)
class StoryMeta:
    universes: list[str] = field(default_factory=list)
    characters: list[str] = field(default_factory=list)
    theme: str | None = None
    combination: str | None = None


@dataclass(frozen=True)
class Quality:
    scope: str
    key: str
    score: float
    bayesian_rating: float
    ratings: int


def bayesian_average(total: float, n: int, prior_mean: float, prior_weight: float = PRIOR_WEIGHT) -> float:
    return (prior_weight * prior_mean + total) / (prior_weight + n)


def score(stats: Stats, overall: Stats) -> tuple[float, float]:
    """(score 0..100, bayesian rating) of one group against the overall stats."""
    mean_rating = overall.rating_sum / overall.ratings if overall.ratings else 3.0
    mean_sentiment = overall.sentiment_sum / overall.sentiments if overall.sentiments else 0.5
    problem_rate = overall.problem_comments / overall.ratings if overall.ratings else 0.0
    rating = bayesian_average(stats.rating_sum, stats.ratings, mean_rating)
    sentiment = bayesian_average(stats.sentiment_sum, stats.sentiments, mean_sentiment)
    problems = bayesian_average(stats.problem_comments, stats.ratings, problem_rate)
    w_rating, w_sentiment, w_problems = WEIGHTS
    value = 100 * (w_rating * (rating - 1) / 4 + w_sentiment * sentiment + w_problems * (1 - problems))
    return round(value, 2), round(rating, 3)


def groups_of(story_id: str, meta: StoryMeta | None) -> list[tuple[str, str]]:
    keys = [("story", story_id)]
    if meta is None:
        return keys
    keys += [("universe", u) for u in dict.fromkeys(meta.universes)]
    keys += [("character", c) for c in dict.fromkeys(meta.characters)]
    if meta.theme:
        keys.append(("theme", meta.theme))
    if meta.combination:
        keys.append(("combination", meta.combination))
    return keys


def quality_scores(per_story: dict[str, Stats], meta: dict[str, StoryMeta]) -> list[Quality]:
    """Scores for every story and every universe, character, theme and combination
    they belong to, best first within each scope; beyond MAX_PER_SCOPE, the best and
    the worst half of that number."""
    overall = Stats()
    grouped: dict[tuple[str, str], Stats] = defaultdict(Stats)
    for story_id, stats in per_story.items():
        overall.add(stats)
        for key in groups_of(story_id, meta.get(story_id)):
            grouped[key].add(stats)
    out: list[Quality] = []
    for scope in SCOPES:
        scored = []
        for (group_scope, key), stats in grouped.items():
            if group_scope == scope:
                value, rating = score(stats, overall)
                scored.append(Quality(scope, key, value, rating, stats.ratings))
        scored.sort(key=lambda q: (-q.score, q.key))
        if len(scored) > MAX_PER_SCOPE:  # the best and the worst: what to keep and what to fix
            half = MAX_PER_SCOPE // 2
            scored = scored[:half] + scored[-half:]
        out += scored
    return out


# ---- suggestions ----

MIN_COMMENTS = 3
MIN_SHARE = 0.2
MAX_SUGGESTIONS = 10
_TEMPLATES = {
    "plot": "plots often {evidence}",
    "ending": "endings often {evidence}",
    "characters": "characters often {evidence}",
    "length": "often {evidence}",
    "illustrations": "illustrations often {evidence}",
    "reading_level": "reading level often {evidence}",
    "scary_content": "often reported as frightening ({evidence})",
    "inappropriate_content": "inappropriate content reported ({evidence})",
    "technical_problem": "technical problems reported ({evidence})",
    "voice_narration": "narration often {evidence}",
}


@dataclass(frozen=True)
class Complaint:
    """One negative aspect of one comment, with the story it is about."""

    story_id: str
    aspect: str
    evidence: str


def display_name(slug: str) -> str:
    return " ".join(part.capitalize() for part in slug.replace("_", "-").split("-"))


def _listing(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def suggestions(
    complaints: Iterable[Complaint], comments_per_story: dict[str, int], meta: dict[str, StoryMeta]
) -> list[str]:
    """'Stories combining Dragon Ball and Toy Story: endings often confusing (23 comments)'.

    A group (universe combination, theme) gets a suggestion for an aspect when at
    least MIN_COMMENTS comments and MIN_SHARE of its comments complain about it."""
    subjects: dict[tuple[str, str], str] = {}
    comments: Counter[tuple[str, str]] = Counter()
    for story_id, n in comments_per_story.items():
        info = meta.get(story_id)
        if info is None:
            continue
        for group in _suggestion_groups(info):
            comments[group] += n
            subjects[group] = _subject(group, info)
    counts: Counter[tuple[tuple[str, str], str]] = Counter()
    evidence: dict[tuple[tuple[str, str], str], Counter[str]] = defaultdict(Counter)
    for complaint in complaints:
        info = meta.get(complaint.story_id)
        if info is None:
            continue
        for group in _suggestion_groups(info):
            counts[(group, complaint.aspect)] += 1
            if complaint.evidence != "category":
                evidence[(group, complaint.aspect)][complaint.evidence] += 1
    found = []
    for (group, aspect), n in counts.items():
        if n < MIN_COMMENTS or n < MIN_SHARE * comments[group]:
            continue
        words = evidence[(group, aspect)].most_common(1)
        text = _TEMPLATES[aspect].format(evidence=words[0][0] if words else "a problem")
        found.append((n, f"{subjects[group]}: {text} ({n} comments)"))
    found.sort(key=lambda pair: (-pair[0], pair[1]))
    return [text for _, text in found[:MAX_SUGGESTIONS]]


def _suggestion_groups(info: StoryMeta) -> list[tuple[str, str]]:
    groups = []
    if info.combination:
        groups.append(("combination", info.combination))
    if info.theme:
        groups.append(("theme", info.theme))
    return groups


def _subject(group: tuple[str, str], info: StoryMeta) -> str:
    kind, key = group
    if kind == "combination":
        return "Stories combining " + _listing([display_name(u) for u in key.split("+")])
    return f"Stories with the theme {display_name(key).lower()}"
