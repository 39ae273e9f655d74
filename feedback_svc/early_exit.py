"""Early exit for the sentiment model (training side): clear comments leave after the first layers.

    python -m feedback_svc.train_sentiment --data /work/shared/data/sst2 --layers 6 --epochs 3 \\
        --lr 5e-5 --exit-layer 3 --out feedback_svc/models/sentiment

Most comments are clearly positive or negative long before the last layer. After the
classifier is fine-tuned, a second head is trained on the mean-pooled output of layer K
with the encoder frozen (train.tsv only). The release is then two ONNX graphs:

    early.onnx   input_ids, attention_mask -> hidden (after layer K), exit_logits
    late.onnx    hidden, attention_mask    -> logits (layers K+1..N, the fine-tuned head)

and `metadata.json` records `exit.confidence`: a comment whose exit probability is at least
that sure of its class takes the early answer; the others go on through late.onnx. The
confidence is the lowest at which the cascade's accuracy on the validation split carved
from train.tsv stays within `--exit-tolerance` of the full model's, measured with the
exported int8 graphs themselves. SST-2 dev is never used for any of it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

EXIT_HEAD_EPOCHS = 30


class EarlyStage(nn.Module):
    """Embeddings and layers 1..K of the fine-tuned encoder, plus the exit head."""

    def __init__(self, classifier: nn.Module, exit_layer: int, exit_head: nn.Module) -> None:
        super().__init__()
        self.config = classifier.encoder.config
        self.embeddings = classifier.encoder.embeddings
        self.layers = nn.ModuleList(classifier.encoder.encoder.layer[:exit_layer])
        self.exit_head = exit_head

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        hidden = self.embeddings(input_ids=input_ids)
        additive = _additive_mask(self.config, hidden, attention_mask)
        for layer in self.layers:
            hidden = layer(hidden, attention_mask=additive)
        return hidden, self.exit_head(mean_pool(hidden, attention_mask))


class LateStage(nn.Module):
    """Layers K+1..N and the fine-tuned head, from the early stage's hidden states."""

    def __init__(self, classifier: nn.Module, exit_layer: int) -> None:
        super().__init__()
        self.config = classifier.encoder.config
        self.layers = nn.ModuleList(classifier.encoder.encoder.layer[exit_layer:])
        self.head = classifier.head

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        additive = _additive_mask(self.config, hidden, attention_mask)
        for layer in self.layers:
            hidden = layer(hidden, attention_mask=additive)
        return self.head(mean_pool(hidden, attention_mask))


def _additive_mask(config, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    # The mask exactly as BertModel builds it: the pattern onnxruntime's optimizer
    # recognises when it fuses the Attention and EmbedLayerNormalization ops.
    from transformers.masking_utils import create_bidirectional_mask

    return create_bidirectional_mask(config=config, inputs_embeds=hidden, attention_mask=attention_mask)


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


@torch.no_grad()
def pooled_features(
    classifier: nn.Module, token_ids: list[list[int]], exit_layer: int, batch_size: int = 128
) -> np.ndarray:
    """Mean-pooled output of layer K for each text (the frozen exit head's input)."""
    from feedback_svc.train_sentiment import to_tensors

    stage = EarlyStage(classifier, exit_layer, nn.Identity()).eval()
    order = np.argsort([len(ids) for ids in token_ids], kind="stable")
    out = np.empty((len(token_ids), classifier.encoder.config.hidden_size), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        _, pooled = stage(*to_tensors([token_ids[i] for i in rows]))
        out[rows] = pooled.numpy()
    return out


def train_exit_head(
    features: np.ndarray, labels: np.ndarray, hidden: int, seed: int, epochs: int = EXIT_HEAD_EPOCHS
) -> nn.Module:
    """A small head on frozen features: seconds on a CPU, not minutes."""
    torch.manual_seed(seed)
    size = features.shape[1]
    head = (
        nn.Sequential(nn.Linear(size, hidden), nn.GELU(), nn.Dropout(0.1), nn.Linear(hidden, 2))
        if hidden
        else nn.Linear(size, 2)
    )
    x, y = torch.from_numpy(features), torch.from_numpy(labels)
    optimizer = torch.optim.AdamW(head.parameters(), lr=1e-3, weight_decay=0.01)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    head.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(x), generator=generator).split(256):
            loss = loss_fn(head(x[batch]), y[batch])
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
    return head.eval()


def choose_confidence(exit_p: np.ndarray, full_p: np.ndarray, labels: np.ndarray, tolerance: float) -> dict:
    """The lowest exit confidence whose cascade accuracy is within `tolerance` of the full model's."""
    full_accuracy = float(np.mean((full_p >= 0.5) == labels))
    exit_sure = np.maximum(exit_p, 1.0 - exit_p)
    best = {"confidence": 1.0, "exit_share": 0.0, "accuracy": full_accuracy}
    for confidence in np.round(np.arange(0.999, 0.5, -0.001), 3):
        leaves = exit_sure >= confidence
        cascade = np.where(leaves, exit_p, full_p)
        accuracy = float(np.mean((cascade >= 0.5) == labels))
        if accuracy < full_accuracy - tolerance:
            break
        best = {"confidence": float(confidence), "exit_share": float(leaves.mean()), "accuracy": accuracy}
    return {**best, "full_accuracy": full_accuracy}


def export_stages(classifier: nn.Module, exit_head: nn.Module, exit_layer: int, out: Path) -> None:
    """early.onnx and late.onnx, each fused by onnxruntime's BERT optimizer and made int8."""
    from feedback_svc.train_sentiment import fuse_and_quantize

    config = classifier.encoder.config
    early = EarlyStage(classifier, exit_layer, exit_head).eval()
    late = LateStage(classifier, exit_layer).eval()
    ids, mask = torch.ones((2, 8), dtype=torch.long), torch.ones((2, 8), dtype=torch.long)
    tokens = {0: "batch", 1: "tokens"}
    with tempfile.TemporaryDirectory() as tmp:
        early_fp32, late_fp32 = Path(tmp) / "early.onnx", Path(tmp) / "late.onnx"
        torch.onnx.export(
            early,
            (ids, mask),
            str(early_fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["hidden", "exit_logits"],
            dynamic_axes={
                "input_ids": tokens,
                "attention_mask": tokens,
                "hidden": tokens,
                "exit_logits": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )
        hidden = torch.zeros((2, 8, config.hidden_size))
        torch.onnx.export(
            late,
            (hidden, mask),
            str(late_fp32),
            input_names=["hidden", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={"hidden": tokens, "attention_mask": tokens, "logits": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
        fuse_and_quantize(early_fp32, out / "early.onnx", config)
        fuse_and_quantize(late_fp32, out / "late.onnx", config)
