"""Hidden educational goals: what some parents want their child to learn (issue 21).

    goals = hidden_goals(seed, user, catalog)      # ("patience",) or () — seeded, per user

A parent sets goals with probability GOAL_SHARE: one or two moral lessons allowed for the child's
age group, drawn at random (not from the child's tastes: a parent's goal is often what the
child does not pick alone). Their own stream (seed, "goals", user index), so adding goals changes
no other draw. With SimConfig.goal_pull > 0 the goals also show in behaviour: a story's moral
lesson is one of the goals with that probability (the parent steering the creation). The
recommendation engine's offline evaluation (reco_svc/offline/goal_alignment.py) reads them back.
"""

from __future__ import annotations

import random

from simulator.catalog import Catalog
from simulator.population import User

GOAL_SHARE = 0.6


def hidden_goals(seed: int, user: User, catalog: Catalog, share: float = GOAL_SHARE) -> tuple[str, ...]:
    rng = random.Random(f"{seed}:goals:{user.index}")
    if rng.random() >= share:
        return ()
    allowed = [m.id for m in catalog.moral_lessons if m.suits(user.age_group)]
    return tuple(rng.sample(allowed, k=min(len(allowed), rng.choice((1, 1, 2)))))
