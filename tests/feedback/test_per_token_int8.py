"""Per-token int8 quantization (feedback_svc.offline.per_token_int8) on a small real ONNX graph in
onnxruntime: an embedding lookup, two linear layers and a matmul between activations, like a
transformer block."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from common.onnx_runtime import ort
from feedback_svc.offline.per_token_int8 import quantize_per_token

VOCAB, HIDDEN, OUT = 1200, 48, 16


def small_model(rng: np.random.Generator) -> onnx.ModelProto:
    table = rng.normal(0, 1, (VOCAB, HIDDEN)).astype(np.float32)
    table[7] = 0.0  # an all-zero row (a padding embedding) must stay zero, not divide by zero
    w1 = rng.normal(0, 0.2, (HIDDEN, HIDDEN)).astype(np.float32)
    w1[:, 3] *= 40  # one loud output channel: per-channel scales keep the quiet ones precise
    w2 = rng.normal(0, 0.2, (HIDDEN, OUT)).astype(np.float32)
    w3 = rng.normal(0, 0.2, (HIDDEN, OUT)).astype(np.float32)
    nodes = [
        helper.make_node("Gather", ["table", "ids"], ["embedded"], axis=0),
        helper.make_node("MatMul", ["embedded", "w1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["a1"]),
        helper.make_node("Transpose", ["a1"], ["a1t"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["a1", "a1t"], ["gram"]),  # activations only: stays fp32
        helper.make_node("MatMul", ["a1", "w2"], ["out"]),
        helper.make_node("MatMul", ["embedded", "w3"], ["side"]),  # reads what w1 reads, like Q and K
    ]
    graph = helper.make_graph(
        nodes,
        "small",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", "tokens"])],
        [
            helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", "tokens", OUT]),
            helper.make_tensor_value_info("gram", TensorProto.FLOAT, ["batch", "tokens", "tokens"]),
            helper.make_tensor_value_info("side", TensorProto.FLOAT, ["batch", "tokens", OUT]),
        ],
        [numpy_helper.from_array(a, n) for a, n in ((table, "table"), (w1, "w1"), (w2, "w2"), (w3, "w3"))],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture(scope="module")
def models() -> tuple[ort.InferenceSession, ort.InferenceSession, onnx.ModelProto]:
    fp32 = small_model(np.random.default_rng(3))
    int8 = quantize_per_token(fp32)
    onnx.checker.check_model(int8)
    open_ = lambda m: ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])  # noqa: E731
    return open_(fp32), open_(int8), int8


def run(session: ort.InferenceSession, ids: np.ndarray) -> np.ndarray:
    return session.run(["out"], {"ids": ids})[0]


def test_weights_and_table_are_stored_in_int8(models) -> None:
    *_, int8 = models
    kinds = {init.name: init.data_type for init in int8.graph.initializer}
    assert "w1" not in kinds and "w2" not in kinds and "w3" not in kinds and "table" not in kinds
    int8_sizes = [np.prod(i.dims) for i in int8.graph.initializer if i.data_type == TensorProto.INT8]
    assert sum(int8_sizes) >= VOCAB * HIDDEN + HIDDEN * HIDDEN + 2 * HIDDEN * OUT
    ops = [node.op_type for node in int8.graph.node]
    assert ops.count("MatMulIntegerToFloat") == 3  # the weight matmuls
    assert ops.count("MatMul") == 1  # the activation-by-activation one
    # w1 and w3 read the embeddings, w2 the ReLU: two activations, so two per-token quantizers.
    assert ops.count("ReduceMax") == 2


def test_outputs_stay_close_to_fp32(models) -> None:
    fp32, int8, _ = models
    ids = np.random.default_rng(5).integers(0, VOCAB, (4, 9))
    expected, got = run(fp32, ids), run(int8, ids)
    relative = np.abs(got - expected).max() / np.abs(expected).max()
    assert relative < 0.03, relative
    assert np.corrcoef(got.ravel(), expected.ravel())[0, 1] > 0.999


def test_a_zero_embedding_row_stays_zero(models) -> None:
    fp32, int8, _ = models
    ids = np.full((1, 3), 7)
    np.testing.assert_array_equal(run(int8, ids), np.zeros((1, 3, OUT), np.float32))
    np.testing.assert_array_equal(run(fp32, ids), run(int8, ids))


def test_a_row_gets_the_same_numbers_alone_or_beside_louder_rows(models) -> None:
    """Per-tensor dynamic scales would requantize the quiet row against the loud one."""
    _, int8, _ = models
    rng = np.random.default_rng(9)
    quiet = rng.integers(0, VOCAB, (1, 6))
    batch = np.concatenate([quiet, rng.integers(0, VOCAB, (5, 6))])
    alone, together = run(int8, quiet)[0], run(int8, batch)[0]
    np.testing.assert_array_equal(alone, together)


def test_weight_bits_are_checked() -> None:
    with pytest.raises(ValueError, match="weight_bits"):
        quantize_per_token(small_model(np.random.default_rng(1)), weight_bits=9)


@pytest.mark.parametrize("bits", [7, 8])
def test_weight_codes_stay_in_range(bits: int) -> None:
    int8 = quantize_per_token(small_model(np.random.default_rng(2)), weight_bits=bits)
    limit = 2 ** (bits - 1) - 1
    for init in int8.graph.initializer:
        if init.data_type == TensorProto.INT8 and len(init.dims) == 2 and init.dims[0] == HIDDEN:
            codes = numpy_helper.to_array(init)
            assert np.abs(codes).max() == limit
