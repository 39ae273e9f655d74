"""Diversity: no more than `cap` items of one universe in a list, unless the child asked for it.

    pick_diverse(ranked, limit=5, exempt={"dragon-ball"})

Greedy over the ranked candidates (best first): an item is held back while any of its
universes (a character's universe, a story's universes) already has `cap` items in the list;
universes the child selected in the request are exempt ("unless asked"). Held-back items
only fill the list when too few other candidates remain, so a short list is never padded
with out-of-policy items when alternatives exist.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")


def universe_cap(limit: int) -> int:
    """2 of 5, 4 of 10, 8 of 20."""
    return max(2, math.ceil(limit * 0.4))


def pick_diverse(
    ranked: Sequence[T],
    limit: int,
    universes_of: Callable[[T], Iterable[str]],
    exempt: Iterable[str] = (),
    cap: int | None = None,
) -> list[T]:
    cap = universe_cap(limit) if cap is None else cap
    exempt = set(exempt)
    counts: Counter[str] = Counter()
    chosen: list[T] = []
    held: list[T] = []
    for candidate in ranked:
        if len(chosen) == limit:
            break
        groups = [u for u in universes_of(candidate) if u not in exempt]
        if any(counts[u] >= cap for u in groups):
            held.append(candidate)
            continue
        chosen.append(candidate)
        counts.update(groups)
    if len(chosen) < limit:
        chosen += held[: limit - len(chosen)]
    return chosen
