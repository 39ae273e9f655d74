"""Sentiment analysis accuracy as the metric storyverse_feedback_sentiment_accuracy{model, source}.

- source="sst2_dev", "parent_comments": the served scorer's held-out accuracy on SST-2 dev and
  on the mixed parent-comment test set, as `python -m feedback_svc.offline.evaluate --record` wrote it
  beside the scorer's weights (comment_weights.json); without that, the bare model's SST-2 dev
  figure from its training metadata. Set when the service loads the model.
- source="moderation": how often moderators upheld the analysis. A story reaches the
  moderation queue because the analysis read a parent's comment as reporting frightening or
  inappropriate content; "keep_hidden" agrees with that reading, "clear" rejects it. The share
  kept over the decisions of the last MODERATION_DAYS, refreshed after every decision and
  every REFRESH_SECONDS (decisions taken on other replicas); absent until a first decision.

`model` is the first 12 hex digits of model.onnx's sha256: the exact file that serves.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from pathlib import Path

import asyncpg

from common import metrics
from common.periodic import Periodic
from feedback_svc import store
from feedback_svc.sentiment.comment_sentiment import WEIGHTS_FILE

log = logging.getLogger(__name__)
MODERATION_DAYS = 90
REFRESH_SECONDS = 300.0


def model_label(model_dir: Path) -> str:
    digest = hashlib.sha256()
    with (model_dir / "model.onnx").open("rb") as model:
        for chunk in iter(lambda: model.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:12]


def evaluated_accuracy(model_dir: Path) -> dict[str, float]:
    """Held-out accuracy per data set: the served scorer's as `evaluate --record` wrote it beside
    its weights (sst2_dev, parent_comments), else the bare model's SST-2 dev figure from its
    training metadata; empty when neither says."""
    found: dict[str, float] = {}
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        meta = json.loads((model_dir / "metadata.json").read_text(encoding="utf-8"))
        found["sst2_dev"] = float(meta["sst2_dev"]["accuracy"])
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
        weights = json.loads((model_dir / WEIGHTS_FILE).read_text(encoding="utf-8"))
        for kind, figures in weights.get("evaluated", {}).items():
            with contextlib.suppress(KeyError, TypeError, ValueError):
                found[kind] = float(figures["accuracy"])
    return found


class SentimentAccuracy:
    def __init__(self, pool: asyncpg.Pool, model_dir: Path) -> None:
        self.pool = pool
        self.model = model_label(model_dir)
        # Decisions taken on other replicas show within REFRESH_SECONDS.
        self._refresh = Periodic("sentiment accuracy refresh", self.refresh, REFRESH_SECONDS, first_after=0)
        evaluated = evaluated_accuracy(model_dir)
        if not evaluated:
            log.warning(
                "sentiment model has no evaluation metadata", extra={"fields": {"dir": str(model_dir)}}
            )
        for source, accuracy in evaluated.items():
            metrics.SENTIMENT_ACCURACY.set(accuracy, {"model": self.model, "source": source})

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
