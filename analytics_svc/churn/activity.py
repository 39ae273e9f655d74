"""Per-user, per-day activity counters: the one input of the features and the baselines.

`DailyActivity.counts[u, d, c]` holds channel `c` (CHANNELS) of user `u` on day `d` of the
window starting at `start`. Built here from the app's events and feedback entries (dicts, as
the simulator and the API produce them); the service builds the same arrays from its tables.
A user's age group, device type and platform are the latest seen in the events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

CHANNELS = (
    "events",
    "sessions",
    "evening_sessions",  # sessions starting at or after EVENING_HOUR (UTC)
    "stories_started",
    "stories_created",
    "stories_viewed",
    "stories_completed",
    "stories_shared",
    "recommendation_clicks",
    "ratings",
    "rating_sum",
    "low_ratings",  # ratings of 1 or 2
    "sentiments",
    "sentiment_sum",
)
CH = {name: i for i, name in enumerate(CHANNELS)}
EVENING_HOUR = 19
EVENT_CHANNELS = {
    "session_start": "sessions",
    "story_started": "stories_started",
    "story_creation": "stories_created",
    "story_view": "stories_viewed",
    "story_completed": "stories_completed",
    "story_shared": "stories_shared",
    "recommendation_clicked": "recommendation_clicks",
}
UNKNOWN = "unknown"


@dataclass
class DailyActivity:
    start: date
    user_ids: list[str]
    counts: np.ndarray  # float64 [users, days, channels]
    age_group: list[str]
    device_type: list[str]
    platform: list[str]

    @property
    def days(self) -> int:
        return self.counts.shape[1]

    def active(self) -> np.ndarray:
        """bool [users, days]: any event that day."""
        return self.counts[:, :, CH["events"]] > 0


def _day_and_hour(ts: str | datetime) -> tuple[date, int]:
    if isinstance(ts, datetime):
        return ts.date(), ts.hour
    return date.fromisoformat(ts[:10]), int(ts[11:13])


class ActivityBuilder:
    """Accumulates events and feedback into a DailyActivity over [start, start + days)."""

    def __init__(self, start: date, days: int) -> None:
        self.start, self.days = start, days
        self.index: dict[str, int] = {}
        self.rows: list[np.ndarray] = []
        self.attrs: list[list[str]] = []
        self.seen: list[str] = []

    def _row(self, user_id: str) -> tuple[int, np.ndarray]:
        i = self.index.get(user_id)
        if i is None:
            i = self.index[user_id] = len(self.rows)
            self.rows.append(np.zeros((self.days, len(CHANNELS))))
            self.attrs.append([UNKNOWN, UNKNOWN, UNKNOWN])
            self.seen.append("")
        return i, self.rows[i]

    def _day(self, ts: str | datetime) -> tuple[int, int] | None:
        day, hour = _day_and_hour(ts)
        d = (day - self.start).days
        return (d, hour) if 0 <= d < self.days else None

    def add_event(
        self, user_id: str, event_type: str, ts: str | datetime, properties: dict | None = None
    ) -> None:
        where = self._day(ts)
        if where is None:
            return
        d, hour = where
        i, row = self._row(user_id)
        row[d, CH["events"]] += 1
        channel = EVENT_CHANNELS.get(event_type)
        if channel:
            row[d, CH[channel]] += 1
            if channel == "sessions" and hour >= EVENING_HOUR:
                row[d, CH["evening_sessions"]] += 1
        stamp = ts if isinstance(ts, str) else ts.isoformat()
        if properties and stamp >= self.seen[i]:
            self.seen[i] = stamp
            attrs = self.attrs[i]
            for k, key in enumerate(("age_group", "device_type", "platform")):
                value = properties.get(key)
                if value:
                    attrs[k] = value

    def add_feedback(
        self, user_id: str, ts: str | datetime, rating: int | None, sentiment: float | None
    ) -> None:
        where = self._day(ts)
        if where is None:
            return
        _, row = self._row(user_id)
        d = where[0]
        if rating:
            row[d, CH["ratings"]] += 1
            row[d, CH["rating_sum"]] += rating
            row[d, CH["low_ratings"]] += rating <= 2
        if sentiment is not None:
            row[d, CH["sentiments"]] += 1
            row[d, CH["sentiment_sum"]] += sentiment

    def build(self) -> DailyActivity:
        counts = np.stack(self.rows) if self.rows else np.zeros((0, self.days, len(CHANNELS)))
        return DailyActivity(
            self.start,
            list(self.index),
            counts,
            [a[0] for a in self.attrs],
            [a[1] for a in self.attrs],
            [a[2] for a in self.attrs],
        )


def from_events(events: Iterable[dict], feedback: Iterable[dict], start: date, days: int) -> DailyActivity:
    """From the app's JSON shapes (events with `properties`, feedback entries)."""
    builder = ActivityBuilder(start, days)
    for e in events:
        builder.add_event(e["user_id"], e["event_type"], e["timestamp"], e.get("properties"))
    for f in feedback:
        builder.add_feedback(f["user_id"], f["timestamp"], f.get("rating"), f.get("sentiment_score"))
    return builder.build()
