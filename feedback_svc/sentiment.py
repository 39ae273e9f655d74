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

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "sentiment"
NEGATIVE_BELOW = 0.35
POSITIVE_ABOVE = 0.65
MAX_TOKENS = 128  # SST-2 sentences stay under 70 tokens; longer comments are cut to their start


class SentimentModel:
    """Loads the ONNX model once; `score_batch` is safe to call from one thread at a time per instance."""

    def __init__(
        self,
        model_dir: str | Path = DEFAULT_MODEL_DIR,
        *,
        intra_op_threads: int = 0,
        batch_size: int = 64,
        max_tokens: int = MAX_TOKENS,
        negative_below: float = NEGATIVE_BELOW,
        positive_above: float = POSITIVE_ABOVE,
    ) -> None:
        """`intra_op_threads=0` lets onnxruntime use one thread per core; set it lower on shared hosts."""
        if not 0.0 <= negative_below <= positive_above <= 1.0:
            raise ValueError("need 0 <= negative_below <= positive_above <= 1")
        model_dir = Path(model_dir)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()  # padding is done per sub-batch, to its longest text only
        self.tokenizer.enable_truncation(max_tokens)
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = 1  # the graph is a chain: parallelism is inside the matmuls
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            str(model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self.batch_size = batch_size
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
        # Texts of similar length share a sub-batch so that little time goes into padding.
        order = np.argsort([len(ids) for ids in token_ids], kind="stable")
        probabilities = np.empty(len(token_ids), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            input_ids, mask = _pad([token_ids[i] for i in rows])
            (logits,) = self.session.run(["logits"], {"input_ids": input_ids, "attention_mask": mask})
            # Two-class softmax, written as a sigmoid of the logit difference.
            probabilities[rows] = 1.0 / (1.0 + np.exp(logits[:, 0] - logits[:, 1]))
        return probabilities


def _pad(token_ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(ids) for ids in token_ids)
    input_ids = np.zeros((len(token_ids), width), dtype=np.int64)
    mask = np.zeros_like(input_ids)
    for row, ids in enumerate(token_ids):
        input_ids[row, : len(ids)] = ids
        mask[row, : len(ids)] = 1
    return input_ids, mask
