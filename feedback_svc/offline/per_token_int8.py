"""Int8 quantization of an fp32 ONNX transformer with one activation scale per token (training side).

    model = onnx.load("fp32.onnx")
    onnx.save(quantize_per_token(model), "model.onnx")

onnxruntime's dynamic quantization gives a whole input tensor one scale, so in a batch every
text's activations are scaled by the loudest token of any text: a comment's score then moves with
its batchmates. Here each token row gets its own symmetric scale (|x| max / 127, zero point 128 in
uint8), so a text's integers, and its score, are the same alone or in any batch, and batches can be
as large as speed wants. Per-token scales are also finer than per-tensor ones (more accurate).

- Every MatMul by a constant 2-D weight becomes onnxruntime's MatMulIntegerToFloat (com.microsoft;
  int8 product, cast and per-output-channel weight scale in one kernel) on per-token uint8
  activations (QuantizeLinear on a 2-D view, one scale per row), then one Mul by the token scales;
  the bias Add that follows stays as it was. One quantized copy of each activation feeds all the
  MatMuls that read it (Q, K and V share one).
- `weight_bits=7` keeps weights in [-63, 63]: onnxruntime's u8×s8 kernel for CPUs without
  AVX-512 VNNI sums pairs of products in 16 bits, which 255 × 127 × 2 would overflow.
- A large constant Gather table (the word embeddings) is stored int8 with one scale per row.
- Matmuls between activations (attention scores) stay fp32: they have no weights to shrink.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ACTIVATION_ZERO_POINT = 128  # symmetric uint8: code = round(x / scale) + 128, |code - 128| <= 127
EMBEDDING_MIN_ROWS = 1000  # Gather tables at least this tall are vocabularies worth storing in int8
_EPSILON = 1e-8  # an all-zero token row keeps a finite scale


def quantize_per_token(model: onnx.ModelProto, *, weight_bits: int = 7) -> onnx.ModelProto:
    """A new model: MatMuls by constant weights run in int8 with per-token activation scales."""
    if not 2 <= weight_bits <= 8:
        raise ValueError("weight_bits must be within 2..8")
    model = onnx.ModelProto.FromString(model.SerializeToString())
    _Rewriter(model.graph, weight_bits).run()
    if not any(opset.domain == "com.microsoft" for opset in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model


class _Rewriter:
    def __init__(self, graph: onnx.GraphProto, weight_bits: int) -> None:
        self.graph = graph
        self.qmax = 2 ** (weight_bits - 1) - 1
        self.initializers = {init.name: init for init in graph.initializer}
        self.quantized_inputs: dict[str, tuple[str, str]] = {}  # activation -> (uint8 codes, scale)
        self.new_initializers: list[TensorProto] = []
        self.used_initializers: set[str] = set()
        self.counter = 0

    def run(self) -> None:
        nodes = []
        for node in self.graph.node:
            if self._is_weight_matmul(node):
                nodes.extend(self._matmul(node))
            elif self._is_embedding_gather(node):
                nodes.extend(self._gather(node))
            else:
                nodes.append(node)
        self._replace_nodes(nodes)
        self._replace_initializers()

    def _is_weight_matmul(self, node: onnx.NodeProto) -> bool:
        weight = self.initializers.get(node.input[1]) if node.op_type == "MatMul" else None
        return weight is not None and len(weight.dims) == 2 and weight.data_type == TensorProto.FLOAT

    def _is_embedding_gather(self, node: onnx.NodeProto) -> bool:
        table = self.initializers.get(node.input[0]) if node.op_type == "Gather" else None
        return (
            table is not None
            and len(table.dims) == 2
            and table.dims[0] >= EMBEDDING_MIN_ROWS
            and table.data_type == TensorProto.FLOAT
            and not any(a.name == "axis" and a.i != 0 for a in node.attribute)
        )

    def _name(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}_pt{self.counter}"

    def _constant(self, stem: str, array: np.ndarray) -> str:
        name = self._name(stem)
        self.new_initializers.append(numpy_helper.from_array(array, name))
        return name

    def _quantize_activation(self, x: str, width: int) -> tuple[list[onnx.NodeProto], str, str]:
        """Nodes (none when reused) giving x as per-token uint8 codes and its [..., 1] fp32 scales."""
        if x in self.quantized_inputs:
            return [], *self.quantized_inputs[x]
        n = self._name(x.replace("/", "_").strip("_") or "x")
        eps = self._constant(f"{n}_eps", np.array(_EPSILON, dtype=np.float32))
        levels = self._constant(f"{n}_levels", np.array(127.0, dtype=np.float32))
        zero = self._constant(f"{n}_zero", np.array(ACTIVATION_ZERO_POINT, dtype=np.uint8))
        flat = self._constant(f"{n}_flat", np.array([-1], dtype=np.int64))
        rows = self._constant(f"{n}_rows", np.array([-1, width], dtype=np.int64))
        nodes = [
            helper.make_node("Abs", [x], [f"{n}_abs"]),
            helper.make_node("ReduceMax", [f"{n}_abs"], [f"{n}_absmax"], axes=[-1], keepdims=1),
            helper.make_node("Max", [f"{n}_absmax", eps], [f"{n}_range"]),
            helper.make_node("Div", [f"{n}_range", levels], [f"{n}_scale"]),
            # QuantizeLinear takes one scale per row of a 2-D view (axis 0): one per token.
            helper.make_node("Reshape", [f"{n}_scale", flat], [f"{n}_token_scales"]),
            helper.make_node("Shape", [f"{n}_token_scales"], [f"{n}_tokens"]),
            helper.make_node("Expand", [zero, f"{n}_tokens"], [f"{n}_token_zeros"]),
            helper.make_node("Reshape", [x, rows], [f"{n}_rows"]),
            helper.make_node(
                "QuantizeLinear",
                [f"{n}_rows", f"{n}_token_scales", f"{n}_token_zeros"],
                [f"{n}_row_codes"],
                axis=0,
            ),
            helper.make_node("Shape", [x], [f"{n}_shape"]),
            helper.make_node("Reshape", [f"{n}_row_codes", f"{n}_shape"], [f"{n}_codes"]),
        ]
        self.quantized_inputs[x] = (f"{n}_codes", f"{n}_scale")
        return nodes, f"{n}_codes", f"{n}_scale"

    def _matmul(self, node: onnx.NodeProto) -> list[onnx.NodeProto]:
        weight = numpy_helper.to_array(self.initializers[node.input[1]]).astype(np.float32)
        column_range = np.maximum(np.abs(weight).max(axis=0), _EPSILON)
        weight_scale = (column_range / self.qmax).astype(np.float32)
        codes = np.clip(np.round(weight / weight_scale), -self.qmax, self.qmax).astype(np.int8)
        self.used_initializers.add(node.input[1])

        nodes, x_codes, x_scale = self._quantize_activation(node.input[0], weight.shape[0])
        n = self._name(node.name.replace("/", "_").strip("_") or "matmul")
        w_codes = self._constant(f"{n}_weight", codes)
        w_scale = self._constant(f"{n}_weight_scale", weight_scale)
        x_zero = self._constant(f"{n}_x_zero", np.array(ACTIVATION_ZERO_POINT, dtype=np.uint8))
        w_zero = self._constant(f"{n}_w_zero", np.array(0, dtype=np.int8))
        one = self._constant(f"{n}_one", np.array(1.0, dtype=np.float32))
        return nodes + [
            # int8 product, cast and per-channel scale in one kernel; the per-token scale after it.
            helper.make_node(
                "MatMulIntegerToFloat",
                [x_codes, w_codes, one, w_scale, x_zero, w_zero],
                [f"{n}_per_channel"],
                domain="com.microsoft",
            ),
            helper.make_node("Mul", [f"{n}_per_channel", x_scale], [node.output[0]]),
        ]

    def _gather(self, node: onnx.NodeProto) -> list[onnx.NodeProto]:
        table = numpy_helper.to_array(self.initializers[node.input[0]]).astype(np.float32)
        row_scale = (np.maximum(np.abs(table).max(axis=1, keepdims=True), _EPSILON) / 127).astype(np.float32)
        codes = np.clip(np.round(table / row_scale), -127, 127).astype(np.int8)
        self.used_initializers.add(node.input[0])
        n = self._name(node.name.replace("/", "_").strip("_") or "gather")
        t_codes = self._constant(f"{n}_table", codes)
        t_scale = self._constant(f"{n}_row_scale", row_scale)
        return [
            helper.make_node("Gather", [t_codes, node.input[1]], [f"{n}_codes"], axis=0),
            helper.make_node("Gather", [t_scale, node.input[1]], [f"{n}_scales"], axis=0),
            helper.make_node("Cast", [f"{n}_codes"], [f"{n}_float"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [f"{n}_float", f"{n}_scales"], [node.output[0]]),
        ]

    def _replace_nodes(self, nodes: list[onnx.NodeProto]) -> None:
        del self.graph.node[:]
        self.graph.node.extend(nodes)

    def _replace_initializers(self) -> None:
        still_read = {name for node in self.graph.node for name in node.input}
        kept = [
            init
            for init in self.graph.initializer
            if init.name not in self.used_initializers or init.name in still_read
        ]
        del self.graph.initializer[:]
        self.graph.initializer.extend(kept + self.new_initializers)
