"""Candidates from how the child read: "continue where you stopped" and "read again".

- continue where you stopped: a story the child viewed in the last CONTINUE_DAYS, never
  finished, and left at or after ABANDON_EARLY % (an early abandon is a dislike);
  "continue where you stopped (40 % read)";
- read again: a story the child finished, and read again since or loved (4-5 stars, shared);
  "read again: you read it 3 times" / "read again: you loved it".

From the child's own recent interactions (the feature store: live from the bus, history from
reco_interactions), so erasure of those erases these too. Only in story lists; at most
`cap(limit)` of a list (one of 5, two of 10), placed first, most recent first; a candidate must
pass the same rules as any item (a story, not hidden, the whole age group within its ages; not
the story being read now). They bypass only the rule that keeps a child's finished stories out
of ordinary recommendations: asking to read one again is the point.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from reco_svc.features.user import UserFeatures
from reco_svc.interactions import RATED
from reco_svc.reading import ABANDON_EARLY

CONTINUE_DAYS = 14
SHARE = 0.2
LOVED_RATING_WEIGHT = 2.0  # interactions.RATING_WEIGHTS: 4 stars and up


@dataclass(frozen=True)
class ReadingPick:
    key: str  # "story:<id>"
    reason: str
    ts: datetime  # the reading it comes from


def cap(limit: int) -> int:
    return max(1, int(limit * SHARE))


def reading_picks(features: UserFeatures, now: datetime) -> list[ReadingPick]:
    """Continue-where-you-stopped picks first, then read-again ones, most recent first each."""
    views: dict[str, list] = {}
    completed: dict[str, datetime] = {}
    loved: set[str] = set()
    for interactions in features.events.values():
        for i in interactions:
            if not i.key.startswith("story:"):
                continue
            if i.signal == "view":
                views.setdefault(i.key, []).append(i)
            elif i.signal == "complete":
                completed[i.key] = min(i.ts, completed.get(i.key, i.ts))
            elif (
                i.event_type == RATED and i.weight >= LOVED_RATING_WEIGHT
            ) or i.event_type == "story_shared":
                loved.add(i.key)
    resume, again = [], []
    for key, seen in views.items():
        last = max(seen, key=lambda i: i.ts)
        if key not in completed:
            if (
                now - last.ts <= timedelta(days=CONTINUE_DAYS)
                and last.position is not None
                and ABANDON_EARLY <= last.position < 100
            ):
                resume.append(
                    ReadingPick(key, f"continue where you stopped ({last.position:.0f} % read)", last.ts)
                )
            continue
        rereads = sum(1 for i in seen if i.ts > completed[key])  # reading.with_rereads' rule
        if rereads:
            again.append(ReadingPick(key, f"read again: you read it {rereads + 1} times", last.ts))
        elif key in loved:
            again.append(ReadingPick(key, "read again: you loved it", last.ts))
    for key in loved - set(views):
        if key in completed:
            again.append(ReadingPick(key, "read again: you loved it", completed[key]))
    resume.sort(key=lambda p: p.ts, reverse=True)
    again.sort(key=lambda p: p.ts, reverse=True)
    return resume + again
