"""Reading signals: how a child read a story, as interaction signals whose weights training chooses.

A `story_view` summarises one reading: `duration` (seconds read) and `position` (how far the
child got, in percent of the story: 100 = the end; docs/events.md). With `story_completed`
they give five signals per (child, story):

| signal   | from                                                          | amount            |
|----------|---------------------------------------------------------------|-------------------|
| view     | a story_view                                                  | 1                 |
| time     | its duration                                                  | min(s / 300, 1)   |
| complete | a story_completed                                             | 1                 |
| reread   | a story_view after a completion of the same story             | 1                 |
| abandon  | a story_view that stopped before ABANDON_EARLY % (position)   | 1                 |

The value of a signal is amount x its weight (`ReadingWeights`), decayed like every other
interaction. The weights are not set by hand: training's tuning (offline/tuning.py) chooses them
on a validation split of the training part and the model carries them (input_weights
"read:<signal>"); serving builds the child's vector with the weights of the model that scores it.
A model without them (older, or the bootstrap model) uses DEFAULT, the weights before this
module (a view 1, a completion 2). An abandon weight may be negative: a pair whose total falls to
0 or below keeps FLOOR in the training matrix (seen, so not recommended back; no taste).

Re-reads need the child's earlier events, so they are derived where all of a child's
interactions are at hand (`weighted`: the training matrix, the serving vector), never per event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime

SIGNALS = ("view", "time", "complete", "reread", "abandon")
FULL_READ_SECONDS = 300.0
ABANDON_EARLY = 25.0  # percent: stopped before this is an early abandon
FLOOR = 0.01
INPUT_PREFIX = "read:"
# The grid of each signal's weight that tuning searches (a coordinate search from DEFAULT).
GRID: dict[str, tuple[float, ...]] = {
    "view": (0.0, 0.5, 1.0, 2.0),
    "time": (0.0, 1.0, 2.0, 4.0),
    "complete": (0.0, 1.0, 2.0, 4.0),
    "reread": (0.0, 1.0, 2.0, 4.0),
    "abandon": (-2.0, -1.0, 0.0, 1.0),
}


@dataclass(frozen=True)
class ReadingWeights:
    view: float = 1.0
    time: float = 0.0
    complete: float = 2.0
    reread: float = 0.0
    abandon: float = 0.0

    def of(self, signal: str) -> float:
        return getattr(self, signal)

    def with_(self, signal: str, value: float) -> ReadingWeights:
        return replace(self, **{signal: value})

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def inputs(self) -> dict[str, float]:
        """As the model's input_weights entries."""
        return {f"{INPUT_PREFIX}{k}": v for k, v in self.as_dict().items()}

    @classmethod
    def from_inputs(cls, input_weights: Mapping[str, float]) -> ReadingWeights:
        """From a model's input_weights; DEFAULT where the model carries none."""
        found = {
            f.name: float(input_weights[f"{INPUT_PREFIX}{f.name}"])
            for f in fields(cls)
            if f"{INPUT_PREFIX}{f.name}" in input_weights
        }
        return cls(**found) if found else DEFAULT


DEFAULT = ReadingWeights()
UNIFORM = ReadingWeights(1.0, 1.0, 1.0, 1.0, 1.0)


def view_signals(duration: float | None, position: float | None) -> list[tuple[str, float]]:
    """(signal, amount) of one story_view (re-reads come later, from the child's history)."""
    found = [("view", 1.0)]
    if duration is not None and duration > 0:
        found.append(("time", min(duration / FULL_READ_SECONDS, 1.0)))
    if position is not None and position < ABANDON_EARLY:
        found.append(("abandon", 1.0))
    return found


def with_rereads(interactions: Iterable) -> list:
    """One child's interactions plus a `reread` for every view of a story after its completion.

    Works on any objects with key, signal, ts (interactions.Interaction); the re-read is a copy
    of the view with signal "reread" and weight 1."""
    found = list(interactions)
    completed: dict[str, datetime] = {}
    for i in found:
        if i.signal == "complete" and (i.key not in completed or i.ts < completed[i.key]):
            completed[i.key] = i.ts
    extra = [
        replace(i, signal="reread", weight=1.0)
        for i in found
        if i.signal == "view" and i.key in completed and i.ts > completed[i.key]
    ]
    return found + extra


def weight_of(interaction, weights: ReadingWeights) -> float:
    """An interaction's weight before decay: fixed for picks and other events, the signal's
    weight times its amount for reading signals."""
    signal = getattr(interaction, "signal", "")
    return interaction.weight * weights.of(signal) if signal else interaction.weight


def by_user(interactions: Iterable) -> dict[str, list]:
    grouped: dict[str, list] = defaultdict(list)
    for i in interactions:
        grouped[i.user_id].append(i)
    return grouped
