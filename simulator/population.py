"""Who uses StoryVerse: children (with a parent) and their hidden tastes.

Each user gets an age group, a device and a platform, an activity level, and
HIDDEN preferences: Dirichlet-drawn weights over the age-appropriate universes,
themes and moral lessons (with a prior that favours items whose peak age is near
the child's, and globally popular items), plus favourite characters within each
universe. Behaviour samples from these weights; evaluations read them back from
`user.preferences` to score what a recommender has learnt.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from simulator.catalog import AGE_GROUPS, AgeGroup, Catalog, Item

# Share of users per age group: StoryVerse is mostly used with young readers.
AGE_GROUP_WEIGHTS = {"3-5": 0.27, "6-8": 0.36, "9-12": 0.26, "13-17": 0.11}
# Younger children mostly use a family tablet; teenagers their own phone.
DEVICE_WEIGHTS = {
    "3-5": {"tablet": 0.70, "phone": 0.15, "desktop": 0.03, "tv": 0.10, "other": 0.02},
    "6-8": {"tablet": 0.60, "phone": 0.18, "desktop": 0.10, "tv": 0.10, "other": 0.02},
    "9-12": {"tablet": 0.42, "phone": 0.30, "desktop": 0.20, "tv": 0.06, "other": 0.02},
    "13-17": {"tablet": 0.20, "phone": 0.58, "desktop": 0.19, "tv": 0.02, "other": 0.01},
}
PLATFORM_WEIGHTS = {
    "tablet": {"ios": 0.58, "android": 0.38, "other": 0.04},
    "phone": {"ios": 0.45, "android": 0.54, "other": 0.01},
    "desktop": {"web": 0.55, "windows": 0.30, "macos": 0.15},
    "tv": {"android": 0.70, "other": 0.30},
    "other": {"web": 0.50, "android": 0.30, "other": 0.20},
}
APP_VERSIONS = {"2.3.1": 0.15, "2.4.0": 0.35, "2.4.2": 0.50}
# Total Dirichlet concentration per kind: small values make tastes peaked (a clear favourite).
CONCENTRATION = 2.5
# How wide, in years, an item's appeal spreads around its peak age.
APPEAL_SPREAD = 3.5
# Share of users who had an account before the simulated window began.
EXISTING_SHARE = 0.35


def choice(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def normalise(weights: dict[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    return {k: v / total for k, v in weights.items()}


def dirichlet(rng: random.Random, alphas: dict[str, float]) -> dict[str, float]:
    draws = {k: rng.gammavariate(a, 1.0) for k, a in alphas.items()}
    total = sum(draws.values()) or 1.0
    return {k: v / total for k, v in draws.items()}


@dataclass(frozen=True)
class Preferences:
    """A user's hidden tastes: probabilities over age-appropriate items, summing to 1 per kind."""

    universes: dict[str, float]
    themes: dict[str, float]
    moral_lessons: dict[str, float]
    # Per universe: probabilities over the characters of that universe the child may pick.
    characters: dict[str, dict[str, float]]

    def top(self, kind: str, n: int = 1) -> list[str]:
        weights: dict[str, float] = getattr(self, kind)
        return sorted(weights, key=weights.__getitem__, reverse=True)[:n]

    def affinity(self, universes: list[str], theme: str, moral_lesson: str) -> float:
        """How much a story matches these tastes, relative to a uniform taste (1.0 = indifferent)."""
        u = sum(self.universes.get(x, 0.0) for x in universes) / max(len(universes), 1)
        uniform_u = 1.0 / len(self.universes)
        t = self.themes.get(theme, 0.0) * len(self.themes)
        m = self.moral_lessons.get(moral_lesson, 0.0) * len(self.moral_lessons)
        return (u / uniform_u) ** 0.5 * t**0.3 * m**0.2


@dataclass
class User:
    user_id: str
    index: int
    age_group: AgeGroup
    child_age: int
    device_type: str
    platform: str
    app_version: str
    # Day of sign-up relative to the first simulated day; negative: existing user.
    signup_day: int
    # Chance of coming back on the day after sign-up; decays with account age.
    base_return: float
    preferences: Preferences


def appeal(item: Item, age: int) -> float:
    if item.peak_age is None:
        return 1.0
    return math.exp(-(((age - item.peak_age) / APPEAL_SPREAD) ** 2) / 2) + 0.05


def draw_preferences(
    rng: random.Random, catalog: Catalog, group: AgeGroup, age: int, popularity: dict[str, float]
) -> Preferences:
    def over(items: tuple[Item, ...]) -> dict[str, float]:
        allowed = [i for i in items if i.suits(group)]
        prior = normalise({i.id: appeal(i, age) * popularity[i.id] for i in allowed})
        return dirichlet(rng, {k: CONCENTRATION * p for k, p in prior.items()})

    universes = over(catalog.universes)
    characters = {u: over(catalog.characters_of(u)) for u in universes}
    return Preferences(universes, over(catalog.themes), over(catalog.moral_lessons), characters)


def global_popularity(seed: int, catalog: Catalog) -> dict[str, float]:
    """Some items are simply more popular with everyone; drawn once per seed."""
    rng = random.Random(f"{seed}:popularity")
    return {i.id: rng.lognormvariate(0.0, 0.5) for i in catalog.items()}


def make_user(seed: int, index: int, days: int, catalog: Catalog, popularity: dict[str, float]) -> User:
    # One stream per user, keyed by (seed, index): adding users never changes existing ones.
    rng = random.Random(f"{seed}:user:{index}")
    group = AGE_GROUPS[choice(rng, AGE_GROUP_WEIGHTS)]
    age = rng.randint(group.low, group.high)
    device = choice(rng, DEVICE_WEIGHTS[group.key])
    # Existing users joined up to 90 days before the window; new ones join during it.
    signup = -rng.randint(1, 90) if rng.random() < EXISTING_SHARE else rng.randrange(max(days, 1))
    return User(
        user_id=f"u-{rng.getrandbits(48):012x}",
        index=index,
        age_group=group,
        child_age=age,
        device_type=device,
        platform=choice(rng, PLATFORM_WEIGHTS[device]),
        app_version=choice(rng, APP_VERSIONS),
        signup_day=signup,
        base_return=min(0.9, rng.betavariate(4, 5)),
        preferences=draw_preferences(rng, catalog, group, age, popularity),
    )


def build_population(users: int, days: int, seed: int, catalog: Catalog) -> list[User]:
    popularity = global_popularity(seed, catalog)
    return [make_user(seed, i, days, catalog, popularity) for i in range(users)]
