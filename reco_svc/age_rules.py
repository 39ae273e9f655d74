"""The hard age rule: an item is shown to an age group only if the whole group lies within its ages.

    allowed(min_age=6, max_age=17, group="6-8")    # True
    allowed(min_age=6, max_age=17, group="3-5")    # False: a 5-year-old is too young

Applied twice on every answer: in the ONNX graph's `allowed` mask and by a final filter
after ranking (serving.py), so a model, a stale mask or a bug in one layer cannot leak
an item to a child outside its ages.
"""

from __future__ import annotations

AGE_GROUPS: dict[str, tuple[int, int]] = {"3-5": (3, 5), "6-8": (6, 8), "9-12": (9, 12), "13-17": (13, 17)}
MIN_AGE, MAX_AGE = 3, 17


def group_bounds(group: str) -> tuple[int, int]:
    try:
        return AGE_GROUPS[group]
    except KeyError:
        raise ValueError(f"unknown age group {group!r}") from None


def allowed(min_age: int, max_age: int, group: str) -> bool:
    low, high = group_bounds(group)
    return min_age <= low and high <= max_age


def group_of_age(age: int) -> str | None:
    for name, (low, high) in AGE_GROUPS.items():
        if low <= age <= high:
            return name
    return None
