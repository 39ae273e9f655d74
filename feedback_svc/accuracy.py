"""Sentiment analysis accuracy as the metric storyverse_feedback_sentiment_accuracy{model, source}.

- source="sst2_dev": the shipped model's held-out accuracy, from its evaluation metadata
  (metadata.json, `sst2_dev.accuracy`, measured by feedback_svc.train_sentiment), set when the
  service loads the model.
- source="moderation": how often moderators upheld the analysis. A story reaches the
  moderation queue because the analysis read a parent's comment as reporting frightening or
  inappropriate content; "keep_hidden" agrees with that reading, "clear" rejects it. The share
  kept over the decisions of the last MODERATION_DAYS, refreshed after every decision and
  every REFRESH_SECONDS (decisions taken on other replicas); absent until a first decision.

`model` is the first 12 hex digits of model.onnx's sha256: the exact file that serves.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import asyncpg

from common import metrics
from common.periodic import Periodic
from feedback_svc import store

log = logging.getLogger(__name__)
MODERATION_DAYS = 90
REFRESH_SECONDS = 300.0


def model_label(model_dir: Path) -> str:
    digest = hashlib.sha256()
    with (model_dir / "model.onnx").open("rb") as model:
        for chunk in iter(lambda: model.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:12]


def evaluated_accuracy(model_dir: Path) -> float | None:
    """The held-out accuracy recorded with the model, or None when its metadata has none."""
    try:
        meta = json.loads((model_dir / "metadata.json").read_text(encoding="utf-8"))
        return float(meta["sst2_dev"]["accuracy"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


class SentimentAccuracy:
    def __init__(self, pool: asyncpg.Pool, model_dir: Path) -> None:
        self.pool = pool
        self.model = model_label(model_dir)
        # Decisions taken on other replicas show within REFRESH_SECONDS.
        self._refresh = Periodic("sentiment accuracy refresh", self.refresh, REFRESH_SECONDS, first_after=0)
        evaluated = evaluated_accuracy(model_dir)
        if evaluated is None:
            log.warning(
                "sentiment model has no evaluation metadata", extra={"fields": {"dir": str(model_dir)}}
            )
        else:
            metrics.SENTIMENT_ACCURACY.set(evaluated, {"model": self.model, "source": "sst2_dev"})

    async def refresh(self) -> None:
        kept, cleared = await store.moderation_outcomes(self.pool, MODERATION_DAYS)
        if kept + cleared:
            metrics.SENTIMENT_ACCURACY.set(
                kept / (kept + cleared), {"model": self.model, "source": "moderation"}
            )

    def start(self) -> None:
        self._refresh.start()  # a failed refresh is logged: a metric must not take the service down

    async def aclose(self) -> None:
        await self._refresh.stop()
