"""Sentiment of parent comments with the shipped int8 ONNX model (serving side: no torch here).

The model (`feedback_svc/models/sentiment/`: model.onnx, tokenizer.json, metadata.json) is committed
to the repository; `python -m feedback_svc.train_sentiment --data /work/shared/data/sst2
--out feedback_svc/models/sentiment` rebuilds it (seeded). It is a 4-layer MiniLM fine-tuned on
SST-2, so it knows two classes only; `neutral` is our band of uncertain scores around 0.5:

    score <  NEGATIVE_BELOW (0.35)  -> "negative"
    score >  POSITIVE_ABOVE (0.65)  -> "positive"
    otherwise                       -> "neutral"   (mixed or unclear comments)
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "sentiment"
NEGATIVE_BELOW = 0.35
POSITIVE_ABOVE = 0.65
MAX_TOKENS = 128  # SST-2 sentences stay under 70 tokens; longer comments are cut to their start


class SentimentModel:
    """Loads the ONNX model once. Each text is run on its own, `threads` texts at a time (each on one
    core; onnxruntime releases the GIL): the int8 activation scales are then the text's own, so a
    comment's score never depends on the comments scored with it, and short texts pay no padding.
    On 2 cores this runs about as fast as length-sorted sub-batches of 64 (docs/sentiment.md)."""

    def __init__(
        self,
        model_dir: str | Path = DEFAULT_MODEL_DIR,
        *,
        threads: int = 0,
        max_tokens: int = MAX_TOKENS,
        negative_below: float = NEGATIVE_BELOW,
        positive_above: float = POSITIVE_ABOVE,
    ) -> None:
        """`threads=0`: one per core; set it lower on shared hosts."""
        if not 0.0 <= negative_below <= positive_above <= 1.0:
            raise ValueError("need 0 <= negative_below <= positive_above <= 1")
        model_dir = Path(model_dir)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_tokens)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # parallelism is across texts (one text is too small to split)
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
        one = self._positive_probability
        scores = self._pool.map(one, token_ids) if self._pool else map(one, token_ids)
        return np.fromiter(scores, dtype=np.float32, count=len(token_ids))

    def _positive_probability(self, ids: list[int]) -> float:
        input_ids = np.asarray([ids], dtype=np.int64)
        (logits,) = self.session.run(
            ["logits"], {"input_ids": input_ids, "attention_mask": np.ones_like(input_ids)}
        )
        # Two-class softmax, written as a sigmoid of the logit difference (never exp of a large number).
        margin = float(logits[0, 1] - logits[0, 0])
        if margin >= 0:
            return 1.0 / (1.0 + math.exp(-margin))
        return math.exp(margin) / (1.0 + math.exp(margin))
