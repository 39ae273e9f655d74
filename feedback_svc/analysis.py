"""Asynchronous analysis of submitted feedback: sentiment, aspects, then alerts.

SubmitFeedback stores the row and publishes its id on "feedback.submitted"; the
consumer here scores each comment (and its parts), extracts its aspects, writes them back
(`analyzed` = true) and hands the result to the alert desk. Delivery is at least
once and the work is idempotent (same input, same row; alerts are deduplicated).
A sweeper re-analyses rows whose message was lost, e.g. when the bus failed
between the commit and the publish.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import asyncpg

from common import metrics
from common.bus import BusMessage, EventBus
from common.periodic import Periodic
from feedback_svc import store
from feedback_svc.alerts.desk import AlertDesk, Analysed
from feedback_svc.sentiment.aspects import ASPECTS, Aspect, extract
from feedback_svc.sentiment.scoring import SentimentScorer, analyse_with

log = logging.getLogger(__name__)
SUBMITTED_TOPIC = "feedback.submitted"
CONSUMER_GROUP = "feedback-analysis"
EVENTS_RECHECK_SECONDS = 60.0
# One sweeper at a time over all replicas (a PostgreSQL advisory lock), so two replicas never
# re-analyse the same lost rows together.
SWEEP_LOCK = 0x5F_EE_DB_AC
META_RETRY_SECONDS = 300.0
SWEEP_BATCH = 500
# The scoring thread runs at a lower CPU priority than the event loop: in a surge the
# acknowledgements keep their latency and the analysis lags (its work list is the table).
# SV_SENTIMENT_NICENESS overrides it (0: same priority as the requests).
SCORING_NICENESS = int(os.environ.get("SV_SENTIMENT_NICENESS", "5"))
# Problem categories a parent ticks: a problem when the rating is not good.
_PROBLEM_CATEGORIES = frozenset({"scary_content", "inappropriate_content", "technical_problem"})


def submitted_message(feedback_id: str, story_id: str) -> BusMessage:
    # Keyed by story: Kafka keeps one story's feedback in order on one partition.
    return BusMessage(key=story_id.encode(), value=json.dumps({"feedback_id": feedback_id}).encode())


def with_categories(aspects: list[Aspect], categories: Sequence[str], rating: int) -> list[Aspect]:
    """The text's aspects plus the categories the parent ticked that the text did not mention."""
    found = {a.aspect for a in aspects}
    extra = []
    for category in categories:
        if category in found or category not in ASPECTS:
            continue
        if category in _PROBLEM_CATEGORIES:
            polarity = "negative" if rating <= 3 else "neutral"
        else:
            polarity = "negative" if rating <= 2 else "positive" if rating >= 4 else "neutral"
        extra.append(Aspect(category, polarity, "category"))
    merged = aspects + extra
    return sorted(merged, key=lambda a: ASPECTS.index(a.aspect))


class Analyzer:
    def __init__(self, pool: asyncpg.Pool, scorer: SentimentScorer, desk: AlertDesk) -> None:
        self.pool = pool
        self.scorer = scorer
        self.desk = desk
        self._sweeper: Periodic | None = None
        self._events_table = False
        self._events_checked = -math.inf
        self._looked_up: dict[str, float] = {}
        self._in_flight: set[str] = set()
        # One thread: a model instance scores one batch at a time, and the handler and the
        # sweeper may both be analysing.
        self._scoring = ThreadPoolExecutor(1, "sentiment", initializer=_lower_priority)

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(SUBMITTED_TOPIC, CONSUMER_GROUP, self.handle)

    async def handle(self, messages: list[BusMessage]) -> None:
        ids = list(dict.fromkeys(json.loads(m.value)["feedback_id"] for m in messages))
        await self.analyse(ids)

    async def analyse(self, feedback_ids: Sequence[str]) -> list[Analysed]:
        # In a backlog the sweeper and late bus messages name the same rows: each row is scored
        # once, by whoever gets it first (in flight here, or analysed already in the table).
        wanted = [i for i in feedback_ids if i not in self._in_flight]
        self._in_flight.update(wanted)
        try:
            return await self._analyse(wanted)
        finally:
            self._in_flight.difference_update(wanted)

    async def _analyse(self, feedback_ids: Sequence[str]) -> list[Analysed]:
        started = time.perf_counter()
        rows = await store.load_for_analysis(self.pool, feedback_ids) if feedback_ids else []
        if not rows:
            return []
        texts = [r.comment for r in rows if r.comment]
        # The model is CPU-bound and the expensive part: one call for every comment of the batch,
        # off the event loop.
        loop = asyncio.get_running_loop()
        scored = await loop.run_in_executor(self._scoring, analyse_with, self.scorer, texts) if texts else []
        sentiments = iter(scored)
        results, analysed = [], []
        for row in rows:
            sentiment = next(sentiments) if row.comment else None
            score, label = (sentiment.score, sentiment.label) if sentiment else (None, None)
            parts = sentiment.parts if sentiment else ()
            aspects = with_categories(extract(row.comment), row.categories, row.rating)
            # Each part names its aspects, so the complaint shows which part of the story it is about.
            part_aspects = [[a.aspect for a in extract(part.text)] for part in parts]
            results.append(
                (
                    row.feedback_id,
                    score,
                    label,
                    store.aspects_json(aspects),
                    store.parts_json(parts, part_aspects),
                )
            )
            analysed.append(Analysed(row.feedback_id, row.story_id, row.rating, aspects))
        await self._refresh_story_meta([r.story_id for r in rows])
        await store.save_analysis(self.pool, results)
        await self.desk.evaluate(analysed)
        # Once per entry: each waited for its whole batch (read, scored, stored, alerts checked).
        elapsed = time.perf_counter() - started
        for _ in rows:
            metrics.FEEDBACK_PROCESSING.record(elapsed)
        return analysed

    async def _refresh_story_meta(self, story_ids: list[str]) -> None:
        # The analytics events table may be created after this service starts (or
        # never, in a feedback-only deployment): look again at most once a minute.
        now = time.monotonic()
        if not self._events_table and now - self._events_checked > EVENTS_RECHECK_SECONDS:
            self._events_table = await store.events_table_exists(self.pool)
            self._events_checked = now
        if not self._events_table:
            return
        # events has no index on story_id: look a story up only while it is unknown,
        # and a story without a creation event at most every few minutes.
        missing = await store.stories_without_meta(self.pool, story_ids)
        due = [s for s in missing if now - self._looked_up.get(s, -math.inf) > META_RETRY_SECONDS]
        if not due:
            return
        if len(self._looked_up) > 100_000:
            self._looked_up.clear()
        self._looked_up.update(dict.fromkeys(due, now))
        await store.copy_story_meta(self.pool, due)

    def start_sweeper(self, every_seconds: float = 5.0, older_than_seconds: float = 60.0) -> None:
        """Every few seconds, feedback not analysed after `older_than_seconds` (its message was
        lost or dropped) is analysed; a failed sweep is logged and the next one tries again."""
        self._sweeper = Periodic("feedback sweep", lambda: self._sweep(older_than_seconds), every_seconds)
        self._sweeper.start()

    async def _sweep(self, older_than_seconds: float) -> None:
        async with self.pool.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", SWEEP_LOCK):
                return  # another replica is sweeping
            try:
                ids = await store.unanalyzed(self.pool, older_than_seconds, SWEEP_BATCH)
                if ids:
                    log.warning(
                        "analysing feedback whose message was lost or dropped",
                        extra={"fields": {"n": len(ids)}},
                    )
                    await self.analyse(ids)
                if len(ids) == SWEEP_BATCH and self._sweeper is not None:
                    self._sweeper.wake()  # a full batch: more are waiting, go on at once
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", SWEEP_LOCK)

    async def aclose(self) -> None:
        if self._sweeper is not None:
            await self._sweeper.stop()
        self._scoring.shutdown(wait=False, cancel_futures=True)


def _lower_priority() -> None:
    # Linux: a thread has its own niceness (setpriority on its thread id); elsewhere a no-op.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), SCORING_NICENESS)
