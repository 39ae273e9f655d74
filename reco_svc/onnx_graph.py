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
SPARSE_OPSET = 18  # ScatterElements with reduction="add"
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


# From this many entries (float32: 8 MB) the low-rank part's `right` is served as int8 with a
# scale per item: each call reads all of it, and at 100k items x rank 48 (19 MB) the float32
# product took 1.2 ms of a 2 ms call, falling out of the cache between calls; int8 (a quarter
# of the bytes) stays in it. Scores move by < 1 % of the part's largest; tests check the top k.
INT8_LOW_RANK_FROM = 2_000_000


def build_sparse_topk_graph(
    neighbours: np.ndarray,
    weights: np.ndarray,
    n_items: int,
    left: np.ndarray | None = None,
    right: np.ndarray | None = None,
    int8_low_rank: bool | None = None,
) -> onnx.ModelProto:
    """The same answer as build_topk_graph for a W kept as padded rows, plus an optional low-rank
    part: scores = sum over active inputs i of W[i, :] (+ (values @ left[inputs]) @ right).

    Graph inputs: `inputs` int64 [m] (indices of the non-zero inputs), `values` float32 [m],
    `allowed` float32 [batch, n_items], `k` int64 [1]; outputs as build_topk_graph. Row i of
    `neighbours` holds the columns of W[i] (n_items pads: a column past the items that is cut
    off before TopK), `weights` their values. Work per call: m x row width + the mask and TopK
    over the items; the model's size grows with items x row width, not items².
    int8_low_rank: `right` as int8 (None: when it has INT8_LOW_RANK_FROM entries or more).
    """
    neighbours = np.asarray(neighbours, dtype=np.int32)  # half the size of int64
    weights = np.asarray(weights, dtype=np.float32)
    if neighbours.shape != weights.shape or neighbours.ndim != 2:
        raise ValueError(f"neighbours {neighbours.shape} and weights {weights.shape} must be equal 2-d")
    initializers = [
        numpy_helper.from_array(neighbours, "neighbours"),
        numpy_helper.from_array(weights, "row_weights"),
        numpy_helper.from_array(np.zeros(n_items + 1, dtype=np.float32), "empty_scores"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "flat"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "first"),
        numpy_helper.from_array(np.array([n_items], dtype=np.int64), "n_items"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "axis0"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
        numpy_helper.from_array(np.array(-np.inf, dtype=np.float32), "neg_inf"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
        numpy_helper.from_array(np.array(-1, dtype=np.int64), "no_item"),
    ]
    nodes = [
        helper.make_node("Gather", ["neighbours", "inputs"], ["row_columns"], axis=0),
        helper.make_node("Gather", ["row_weights", "inputs"], ["row_values"], axis=0),
        helper.make_node("Unsqueeze", ["values", "axis1"], ["values_column"]),
        helper.make_node("Mul", ["row_values", "values_column"], ["contributions"]),
        helper.make_node("Reshape", ["row_columns", "flat"], ["flat_columns"]),
        helper.make_node("Reshape", ["contributions", "flat"], ["flat_contributions"]),
        helper.make_node(
            "ScatterElements",
            ["empty_scores", "flat_columns", "flat_contributions"],
            ["padded_scores"],
            axis=0,
            reduction="add",
        ),
        helper.make_node("Slice", ["padded_scores", "first", "n_items", "axis0"], ["row_scores"]),
        helper.make_node("Unsqueeze", ["row_scores", "axis0"], ["sparse_scores"]),
    ]
    scores = "sparse_scores"
    if left is not None and right is not None:
        right = np.asarray(right, dtype=np.float32)
        initializers.append(numpy_helper.from_array(np.asarray(left, dtype=np.float32), "left"))
        nodes += [
            helper.make_node("Gather", ["left", "inputs"], ["left_rows"], axis=0),
            helper.make_node("Unsqueeze", ["values", "axis0"], ["values_row"]),
            helper.make_node("MatMul", ["values_row", "left_rows"], ["taste"]),
        ]
        if int8_low_rank if int8_low_rank is not None else right.size >= INT8_LOW_RANK_FROM:
            initializers += _int8_low_rank(right, nodes)
        else:
            initializers.append(numpy_helper.from_array(right, "right"))
            nodes.append(helper.make_node("MatMul", ["taste", "right"], ["low_rank_scores"]))
        nodes.append(helper.make_node("Add", ["sparse_scores", "low_rank_scores"], ["scores"]))
        scores = "scores"
    nodes += [
        helper.make_node("Greater", ["allowed", "zero"], ["is_allowed"]),
        helper.make_node("Where", ["is_allowed", scores, "neg_inf"], ["masked_scores"]),
        helper.make_node(
            "TopK", ["masked_scores", "k"], ["values_out", "raw_indices"], axis=-1, largest=1, sorted=1
        ),
        helper.make_node("Equal", ["values_out", "neg_inf"], ["is_excluded"]),
        helper.make_node("Where", ["is_excluded", "no_item", "raw_indices"], ["indices"]),
        helper.make_node("Identity", ["values_out"], ["top_values"]),
    ]
    graph = helper.make_graph(
        nodes,
        "sparse_item_item_topk",
        inputs=[
            helper.make_tensor_value_info("inputs", TensorProto.INT64, ["m"]),
            helper.make_tensor_value_info("values", TensorProto.FLOAT, ["m"]),
            helper.make_tensor_value_info("allowed", TensorProto.FLOAT, ["batch", n_items]),
            helper.make_tensor_value_info("k", TensorProto.INT64, [1]),
        ],
        outputs=[
            helper.make_tensor_value_info("top_values", TensorProto.FLOAT, ["batch", "k"]),
            helper.make_tensor_value_info("indices", TensorProto.INT64, ["batch", "k"]),
        ],
        initializer=initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", SPARSE_OPSET)], producer_name="reco_svc"
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def _int8_low_rank(right: np.ndarray, nodes: list) -> list:
    """taste @ right with right as 8-bit codes, one scale per item (column), and the taste
    vector quantized per call (DynamicQuantizeLinear, uint8): MatMulInteger, then both scales.
    The codes are int8 values stored as uint8 with zero point 128: onnxruntime's uint8 x int8
    kernel on CPUs without AVX-512 VNNI (AVX2 alone: AMD EPYC before Zen 4, many cloud nodes)
    adds pairs of products in 16 bits with saturation (255 x 127 x 2 overflows), which moved
    scores by 20 % of the part's scale there; uint8 x uint8 is exact on every CPU."""
    scale = np.abs(right).max(axis=0) / 127.0
    scale[scale == 0] = 1.0  # an all-zero column stays zero
    quantized = (np.clip(np.rint(right / scale), -127, 127) + 128).astype(np.uint8)
    nodes += [
        helper.make_node("DynamicQuantizeLinear", ["taste"], ["taste_q", "taste_scale", "taste_zero"]),
        helper.make_node(
            "MatMulInteger", ["taste_q", "right_q", "taste_zero", "right_zero"], ["low_rank_int"]
        ),
        helper.make_node("Cast", ["low_rank_int"], ["low_rank_raw"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["taste_scale", "right_scale"], ["low_rank_scale"]),
        helper.make_node("Mul", ["low_rank_raw", "low_rank_scale"], ["low_rank_scores"]),
    ]
    return [
        numpy_helper.from_array(quantized, "right_q"),
        numpy_helper.from_array(np.array(128, dtype=np.uint8), "right_zero"),
        numpy_helper.from_array(scale.astype(np.float32), "right_scale"),
    ]


def with_exact_integer_products(graph: bytes) -> bytes:
    """`graph` with every MatMulInteger whose B is an int8 initializer rewritten to uint8 codes
    (+128) and zero point +128, the same product exactly: graphs exported before 2026-12-07 hold
    int8 codes, whose uint8 x int8 kernel saturates on CPUs without AVX-512 VNNI (see
    _int8_low_rank). Graphs without such a node come back unchanged, without being parsed."""
    if b"MatMulInteger" not in graph:
        return graph
    model = onnx.load_from_string(graph)
    initializers = {tensor.name: tensor for tensor in model.graph.initializer}
    shifted: set[str] = set()  # codes rewritten (one initializer may feed several nodes)
    for node in model.graph.node:
        if node.op_type != "MatMulInteger":
            continue
        inputs = [*node.input, "", ""][:4]
        codes, old_zero = initializers.get(inputs[1]), inputs[3]
        if codes is None or (old_zero and old_zero not in initializers):
            continue  # computed codes or zero point: not an exported int8 part
        if codes.name not in shifted:
            if codes.data_type != TensorProto.INT8:
                continue
            values = numpy_helper.to_array(codes).astype(np.int16) + 128
            codes.CopyFrom(numpy_helper.from_array(values.astype(np.uint8), codes.name))
            shifted.add(codes.name)
        zero = numpy_helper.to_array(initializers[old_zero]).astype(np.int16) if old_zero else np.int16(0)
        inputs[3] = f"{node.name or node.output[0]}_codes_zero"
        model.graph.initializer.append(
            numpy_helper.from_array(np.asarray(zero + 128, dtype=np.uint8), inputs[3])
        )
        del node.input[:]
        node.input.extend(inputs)
    return model.SerializeToString() if shifted else graph


def padded_rows(matrix, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A CSR matrix's rows as (columns, values) padded to `width` with column n_cols and value 0,
    each row cut to its `width` largest |values|."""
    import scipy.sparse as sp

    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    n_rows, n_cols = matrix.shape
    counts = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(n_rows), counts)
    order = np.lexsort((-np.abs(matrix.data), rows))
    rank = np.arange(rows.size) - matrix.indptr[rows[order]]
    keep = order[rank < width]
    kept_rows, kept_rank = rows[keep], rank[rank < width]
    columns = np.full((n_rows, width), n_cols, dtype=np.int64)
    values = np.zeros((n_rows, width), dtype=np.float32)
    columns[kept_rows, kept_rank] = matrix.indices[keep]
    values[kept_rows, kept_rank] = matrix.data[keep]
    return columns, values
