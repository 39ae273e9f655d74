"""Deterministic assignment of users to experiment variants (pure: no I/O, no clock).

A user's bucket is the first 8 bytes of sha256("{salt}:{namespace}:{user_id}") modulo
10,000: the same on every replica, across restarts and in the simulator (which calls
this very module). Two namespaces, so that entering the experiment and the variant are
independent draws: "traffic" decides whether a targeted user enters (bucket < share ×
10,000), "variant" picks the variant by cumulative weight ranges. Changing the weights of
a running experiment would move some users between variants, so the service persists
each user's first assignment and only new users see the new weights (docs/experiments.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

BUCKETS = 10_000


@dataclass(frozen=True)
class Arm:
    key: str
    weight: float


@dataclass(frozen=True)
class Rules:
    """What assignment needs of an experiment definition."""

    salt: str
    arms: tuple[Arm, ...]
    age_groups: frozenset[str] = frozenset()
    platforms: frozenset[str] = frozenset()
    traffic_share: float = 1.0


@dataclass(frozen=True)
class Context:
    age_group: str = ""
    platform: str = ""
    device_type: str = ""


def bucket(salt: str, namespace: str, user_id: str) -> int:
    digest = hashlib.sha256(f"{salt}:{namespace}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def targeted(rules: Rules, context: Context) -> bool:
    """Age group and platform must be listed when the experiment lists any; an unknown
    value (empty) never matches a restricted list."""
    if rules.age_groups and context.age_group not in rules.age_groups:
        return False
    return not (rules.platforms and context.platform not in rules.platforms)


def in_traffic(rules: Rules, user_id: str) -> bool:
    return bucket(rules.salt, "traffic", user_id) < round(rules.traffic_share * BUCKETS)


def variant_for_bucket(arms: Sequence[Arm], value: int) -> str | None:
    """The arm whose cumulative weight range holds the bucket; None when all weights are 0."""
    total = sum(a.weight for a in arms)
    if total <= 0:
        return None
    upper = 0.0
    for arm in arms:
        upper += arm.weight
        if arm.weight > 0 and value < upper / total * BUCKETS:
            return arm.key
    return next(a.key for a in reversed(arms) if a.weight > 0)  # rounding at the very top


def assign(rules: Rules, user_id: str, context: Context | None = None) -> str | None:
    """The variant for a user not assigned before, or None when the user is not in the experiment."""
    if context is not None and not targeted(rules, context):
        return None
    if not in_traffic(rules, user_id):
        return None
    return variant_for_bucket(rules.arms, bucket(rules.salt, "variant", user_id))


def exposure_event_id(experiment_key: str, user_id: str) -> str:
    """Idempotent id of the one exposure event per (experiment, user): a replay is a duplicate."""
    digest = hashlib.sha256(f"{experiment_key}:{user_id}".encode()).hexdigest()
    return f"exp-{digest[:40]}"
