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

import json
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
    """Loads the ONNX model once; `score_batch` is safe to call from one thread at a time per instance.

    The model folder holds either one graph (model.onnx) or an early-exit pair (early.onnx,
    late.onnx; metadata.json's `exit.confidence`, see feedback_svc/early_exit.py): a text the
    early graph is at least that sure about keeps its early score, the others go on through
    the late layers.
    """

    def __init__(
        self,
        model_dir: str | Path = DEFAULT_MODEL_DIR,
        *,
        intra_op_threads: int = 0,
        batch_size: int = 64,
        max_tokens: int = MAX_TOKENS,
        negative_below: float = NEGATIVE_BELOW,
        positive_above: float = POSITIVE_ABOVE,
        exit_confidence: float | None = None,
    ) -> None:
        """`intra_op_threads=0` lets onnxruntime use one thread per core; set it lower on shared hosts.
        `exit_confidence` overrides the shipped one (1.0: every text takes the late layers too)."""
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

        def session(name: str) -> ort.InferenceSession:
            return ort.InferenceSession(str(model_dir / name), options, providers=["CPUExecutionProvider"])

        metadata_path = model_dir / "metadata.json"
        metadata = json.loads(metadata_path.read_text()) if metadata_path.exists() else {}
        self.early_exit = (model_dir / "early.onnx").exists()
        if self.early_exit:
            self.session, self.late = session("early.onnx"), session("late.onnx")
            shipped = metadata.get("exit", {}).get("confidence", 1.0)
            self.exit_confidence = shipped if exit_confidence is None else exit_confidence
        else:
            self.session, self.late, self.exit_confidence = session("model.onnx"), None, 1.0
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
        token_ids = self._tokenize(texts)
        if self.late is None:
            return self._single(token_ids)
        early, late = self._cascade(token_ids, self.exit_confidence)
        return np.where(np.isnan(late), early, late)

    def stage_probabilities(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(early exit, full model) probabilities of every text: for choosing the exit confidence."""
        if self.late is None:
            raise ValueError("this model has no early exit")
        return self._cascade(self._tokenize(texts), np.inf)

    def _tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        return [encoding.ids for encoding in self.tokenizer.encode_batch(list(texts))]

    def _sub_batches(self, token_ids: list[list[int]]):
        # Texts of similar length share a sub-batch so that little time goes into padding.
        order = np.argsort([len(ids) for ids in token_ids], kind="stable")
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            yield (rows, *_pad([token_ids[i] for i in rows]))

    def _single(self, token_ids: list[list[int]]) -> np.ndarray:
        probabilities = np.empty(len(token_ids), dtype=np.float32)
        for rows, input_ids, mask in self._sub_batches(token_ids):
            (logits,) = self.session.run(["logits"], {"input_ids": input_ids, "attention_mask": mask})
            probabilities[rows] = _positive(logits)
        return probabilities

    def _cascade(self, token_ids: list[list[int]], confidence: float) -> tuple[np.ndarray, np.ndarray]:
        """Early probabilities of all texts; late ones (NaN where the text left early)."""
        early = np.empty(len(token_ids), dtype=np.float32)
        late = np.full(len(token_ids), np.nan, dtype=np.float32)
        unsure: list[tuple[int, np.ndarray]] = []  # (row, hidden states without padding), by length
        for rows, input_ids, mask in self._sub_batches(token_ids):
            hidden, exit_logits = self.session.run(
                ["hidden", "exit_logits"], {"input_ids": input_ids, "attention_mask": mask}
            )
            p = _positive(exit_logits)
            early[rows] = p
            lengths = mask.sum(axis=1)
            for i in np.flatnonzero(np.maximum(p, 1.0 - p) < confidence):
                unsure.append((rows[i], hidden[i, : lengths[i]]))
        # The unsure texts of all sub-batches go on together, in full sub-batches.
        for start in range(0, len(unsure), self.batch_size):
            part = unsure[start : start + self.batch_size]
            width = max(len(h) for _, h in part)
            hidden = np.zeros((len(part), width, part[0][1].shape[1]), dtype=np.float32)
            mask = np.zeros((len(part), width), dtype=np.int64)
            for j, (_, h) in enumerate(part):
                hidden[j, : len(h)] = h
                mask[j, : len(h)] = 1
            (logits,) = self.late.run(["logits"], {"hidden": hidden, "attention_mask": mask})
            late[[row for row, _ in part]] = _positive(logits)
        return early, late


def _positive(logits: np.ndarray) -> np.ndarray:
    # Two-class softmax, written as a sigmoid of the logit difference.
    return 1.0 / (1.0 + np.exp(logits[:, 0] - logits[:, 1]))


def _pad(token_ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(ids) for ids in token_ids)
    input_ids = np.zeros((len(token_ids), width), dtype=np.int64)
    mask = np.zeros_like(input_ids)
    for row, ids in enumerate(token_ids):
        input_ids[row, : len(ids)] = ids
        mask[row, : len(ids)] = 1
    return input_ids, mask
