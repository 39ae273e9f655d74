"""Export an item-item model (scores = x @ B) to an ONNX graph that also masks and takes the top k.

Graph inputs:
  x        float32 [batch, n_items]  the user's interaction vector(s)
  allowed  float32 [batch, n_items]  1 = may be recommended, 0 = excluded (age rule, hidden,
                                     already picked); bool callers cast with `as_allowed`
  k        int64   [1]               how many items to return (1 <= k <= n_items)
Graph outputs:
  values   float32 [batch, k]  scores, best first
  indices  int64   [batch, k]  item indices; -1 where fewer than k items are allowed

Masked items get -inf before TopK, and any slot whose value is -inf is rewritten to index -1,
so an excluded item can never be returned even when k exceeds the allowed count.
B is stored as an initializer: fine up to ~20k items (1.6 GB float32 is near protobuf's 2 GB
cap); beyond that store it as ONNX external data or serve a sparse model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # accepted by every onnxruntime >= 1.14


def build_topk_graph(item_weights: np.ndarray) -> onnx.ModelProto:
    weights = np.asarray(item_weights, dtype=np.float32)
    if weights.ndim != 2 or weights.shape[0] != weights.shape[1]:
        raise ValueError(f"item weights must be square, got {weights.shape}")
    n_items = weights.shape[0]
    initializers = [
        numpy_helper.from_array(weights, "item_weights"),
        numpy_helper.from_array(np.array(-np.inf, dtype=np.float32), "neg_inf"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
        numpy_helper.from_array(np.array(-1, dtype=np.int64), "no_item"),
    ]
    nodes = [
        helper.make_node("MatMul", ["x", "item_weights"], ["scores"]),
        helper.make_node("Greater", ["allowed", "zero"], ["is_allowed"]),
        helper.make_node("Where", ["is_allowed", "scores", "neg_inf"], ["masked_scores"]),
        helper.make_node(
            "TopK", ["masked_scores", "k"], ["values", "raw_indices"], axis=-1, largest=1, sorted=1
        ),
        helper.make_node("Equal", ["values", "neg_inf"], ["is_excluded"]),
        helper.make_node("Where", ["is_excluded", "no_item", "raw_indices"], ["indices"]),
    ]
    graph = helper.make_graph(
        nodes,
        "item_item_topk",
        inputs=[
            helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", n_items]),
            helper.make_tensor_value_info("allowed", TensorProto.FLOAT, ["batch", n_items]),
            helper.make_tensor_value_info("k", TensorProto.INT64, [1]),
        ],
        outputs=[
            helper.make_tensor_value_info("values", TensorProto.FLOAT, ["batch", "k"]),
            helper.make_tensor_value_info("indices", TensorProto.INT64, ["batch", "k"]),
        ],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="reco_svc")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def export_model(model: object, path: str | Path) -> Path:
    """Write a fitted item-item model (anything with `dense_weights()`) to `path`."""
    dense_weights = getattr(model, "dense_weights", None)
    if dense_weights is None:
        raise TypeError(f"{type(model).__name__} is not an item-item model; it cannot be exported")
    path = Path(path)
    onnx.save_model(build_topk_graph(dense_weights()), path)
    return path


def as_allowed(mask: np.ndarray) -> np.ndarray:
    """Bool or 0/1 mask -> the float32 `allowed` input."""
    return np.asarray(mask, dtype=np.float32)


def topk_inputs(x: np.ndarray, allowed: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Feed dict for onnxruntime's `InferenceSession.run(None, feeds)`."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float32))
    return {"x": x, "allowed": np.atleast_2d(as_allowed(allowed)), "k": np.array([k], dtype=np.int64)}
