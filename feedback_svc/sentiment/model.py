"""Sentiment of parent comments with the shipped int8 ONNX model (serving side: no torch here).

The model (`feedback_svc/models/sentiment/`: model.onnx, tokenizer.json, metadata.json) is committed
to the repository; `python -m feedback_svc.offline.train_sentiment --data /work/shared/data/sst2
--out feedback_svc/models/sentiment` rebuilds it (seeded). It is a 4-layer MiniLM fine-tuned on
SST-2, quantized to int8 with one scale per token (feedback_svc.offline.per_token_int8), so a text's
score is the same in any batch. It knows two classes only; `neutral` is our band of uncertain
scores around 0.5:

    score <  NEGATIVE_BELOW (0.35)  -> "negative"
    score >  POSITIVE_ABOVE (0.65)  -> "positive"
    otherwise                       -> "neutral"   (mixed or unclear comments)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from common.onnx_runtime import ort

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "models" / "sentiment"
NEGATIVE_BELOW = 0.35
POSITIVE_ABOVE = 0.65
MAX_TOKENS = 128  # SST-2 sentences stay under 70 tokens; longer comments are cut to their start
# Texts per run: 8-16 were fastest on SST-2 dev (larger ones leave the cache; docs/sentiment.md).
BATCH_SIZE = 16


class SentimentModel:
    """Loads the ONNX model once. Texts are sorted by length and run in padded batches of
    `batch_size`, `threads` batches at a time (each on one core; onnxruntime releases the GIL).
    The model's int8 scales are per token, so a comment's score does not depend on the comments
    scored with it (to float rounding, ~1e-7)."""

    def __init__(
        self,
        model_dir: str | Path = DEFAULT_MODEL_DIR,
        *,
        threads: int = 0,
        max_tokens: int = MAX_TOKENS,
        batch_size: int = BATCH_SIZE,
        negative_below: float = NEGATIVE_BELOW,
        positive_above: float = POSITIVE_ABOVE,
    ) -> None:
        """`threads=0`: one per core; set it lower on shared hosts."""
        if not 0.0 <= negative_below <= positive_above <= 1.0:
            raise ValueError("need 0 <= negative_below <= positive_above <= 1")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.batch_size = batch_size
        model_dir = Path(model_dir)
        self.model_dir = model_dir
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_tokens)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # parallelism is across batches (a small batch splits badly)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            str(model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        threads = threads or os.cpu_count() or 1
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="sentiment") if threads > 1 else None
        self.negative_below = negative_below
        self.positive_above = positive_above

    def label(self, score: float) -> str:
        if score < self.negative_below:
            return "negative"
        if score > self.positive_above:
            return "positive"
        return "neutral"

    def score_batch(self, texts: Sequence[str]) -> list[tuple[float, str]]:
        """(probability that the text is positive in 0..1, label) for each text, in input order."""
        return [(float(p), self.label(float(p))) for p in self.positive_probabilities(texts)]

    def positive_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty(0, dtype=np.float32)
        token_ids = [encoding.ids for encoding in self.tokenizer.encode_batch(list(texts))]
        # Similar lengths together: little padding.
        order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]))
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]

        def run(rows: list[int]) -> np.ndarray:
            return self._positive_probabilities([token_ids[i] for i in rows])

        results = self._pool.map(run, batches) if self._pool else map(run, batches)
        scores = np.empty(len(token_ids), dtype=np.float32)
        for rows, batch_scores in zip(batches, results, strict=True):
            scores[rows] = batch_scores
        return scores

    def _positive_probabilities(self, token_ids: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in token_ids)
        input_ids = np.zeros((len(token_ids), width), dtype=np.int64)
        attention_mask = np.zeros_like(input_ids)
        for row, ids in enumerate(token_ids):
            input_ids[row, : len(ids)] = ids
            attention_mask[row, : len(ids)] = 1
        (logits,) = self.session.run(["logits"], {"input_ids": input_ids, "attention_mask": attention_mask})
        # Two-class softmax, written as a sigmoid of the logit difference (never exp of a large number).
        margin = (logits[:, 1] - logits[:, 0]).astype(np.float64)
        small = np.exp(-np.abs(margin))  # in (0, 1]
        return np.where(margin >= 0, 1.0, small) / (1.0 + small)
