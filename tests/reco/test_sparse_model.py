"""The sparse path for big catalogs: sparse EASE, the sparse W and its ONNX graph."""

from __future__ import annotations

import numpy as np
import onnx
import scipy.sparse as sp
from onnx import numpy_helper

from reco_svc.artifact import LoadedModel, from_bytes, session_from
from reco_svc.catalog import CatalogEntry
from reco_svc.model_assembly import assemble, context_names
from reco_svc.offline.learned_parts import Learned
from reco_svc.offline.models.ease import EaseModel
from reco_svc.offline.models.sparse_ease import SparseEaseModel
from reco_svc.onnx_graph import INT8_LOW_RANK_FROM, build_sparse_topk_graph, with_exact_integer_products
from reco_svc.similarity import top_k_similar


def _tastes(users: int, items: int, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    groups = 6
    dense = np.zeros((users, items), dtype=np.float32)
    for u in range(users):
        g = u % groups
        liked = rng.choice(np.arange(g, items, groups), size=min(8, items // groups), replace=False)
        dense[u, liked] = 1.0
        dense[u, rng.choice(items, size=3, replace=False)] = 1.0
    return sp.csr_matrix(dense)


def test_with_every_item_as_neighbour_sparse_ease_is_ease():
    rng = np.random.default_rng(1)
    x = sp.csr_matrix((rng.random((400, 25)) < 0.5).astype(np.float32))  # every pair co-occurs
    dense = EaseModel(l2=30.0, item_alpha=0.3).fit(x).dense_weights()
    sparse = SparseEaseModel(l2=30.0, item_alpha=0.3, neighbours=24).fit(x).dense_weights()
    np.testing.assert_allclose(sparse, dense, atol=1e-4)
    # Kept Gram entries only (4 x k per item): close, not equal.
    known = SparseEaseModel(l2=30.0, item_alpha=0.3, neighbours=8, known=24).fit(x).item_weights
    assert known.getnnz(axis=0).max() <= 8


def test_top_k_similar_keeps_each_items_best_cosines():
    x = _tastes(120, 60)
    graph = top_k_similar(x, 5)
    gram = (x.T @ x).toarray().astype(np.float64)
    norms = np.sqrt(np.diag(gram))
    cosine = gram / np.outer(norms, norms)
    np.fill_diagonal(cosine, -1)
    for item in (0, 17, 59):
        best = np.sort(cosine[item])[::-1][:5]
        np.testing.assert_allclose(np.sort(graph.cosine[item])[::-1], best, rtol=1e-5)
        assert item not in graph.index[item]


def test_a_big_catalog_gets_a_sparse_w_whose_graph_scores_like_it():
    n_items = 300
    x = _tastes(500, n_items)
    items = [CatalogEntry("story", f"s{i}", f"Story {i}", 3, 17, tags=(f"t{i % 7}",)) for i in range(n_items)]
    contexts = {"pop:6-8": {j: float(c) for j, c in enumerate(np.asarray(x.sum(axis=0)).ravel()) if c}}
    artifact = assemble(items, x, contexts, "v-sparse", Learned(budget_seconds=5), dense_items=100)
    assert artifact.sparse and artifact.weights.shape == (n_items + len(context_names()), n_items)
    assert artifact.tuning["family"] and artifact.low_rank is not None  # the low-pass part, factored
    model = from_bytes(artifact.to_bytes())
    assert model.sparse and model.n_items == n_items

    x_in = np.zeros(model.n_inputs, dtype=np.float32)
    x_in[[3, 9, 15]] = 1.0
    x_in[model.index["pop:6-8"]] = 0.3
    allowed = np.ones((2, n_items), dtype=np.float32)
    allowed[1, ::2] = 0.0  # e.g. the age rule: even items may not be shown
    values, indices = model.topk(x_in, allowed, 20)
    expected = x_in @ artifact.weights.toarray()
    if artifact.low_rank is not None:
        expected = expected + (x_in @ artifact.low_rank[0]) @ artifact.low_rank[1]
    np.testing.assert_allclose(values[0], np.sort(expected)[::-1][:20], rtol=1e-4, atol=1e-5)
    assert all(i % 2 == 1 for i in indices[1])
    # Reasons read W from the sparse form too.
    top = int(indices[0][0])
    contributions = x_in[[3, 9, 15]] * model.weights_into(np.array([3, 9, 15]), top)
    np.testing.assert_allclose(contributions, x_in[[3, 9, 15]] * artifact.weights.toarray()[[3, 9, 15], top])


def test_reasons_read_any_entries_of_a_sparse_w_as_the_dense_matrix_holds_them():
    """weights_into_many: W[inputs, item] per item from the CSR form, empty rows, absent entries
    and inputs in any order included, equal to the dense matrix's."""
    rng = np.random.default_rng(3)
    dense = np.where(rng.random((40, 30)) < 0.2, rng.normal(size=(40, 30)), 0.0).astype(np.float32)
    dense[[5, 17]] = 0.0  # rows without any entry
    items, contexts = [f"story:{i}" for i in range(30)], [f"c{i}" for i in range(10)]
    empty = sp.csr_matrix((30, 30), dtype=np.float32)
    model = LoadedModel("v", items, contexts, {}, sp.csr_matrix(dense), empty, session=None)
    for _ in range(20):
        inputs = rng.choice(40, size=rng.integers(1, 12), replace=False)
        items = [int(i) for i in rng.choice(30, size=rng.integers(1, 6))]
        np.testing.assert_array_equal(model.weights_into_many(inputs, items), dense[np.ix_(inputs, items)].T)
    assert model.weights_into_many(np.array([5, 17]), [0, 1]).tolist() == [[0.0, 0.0], [0.0, 0.0]]


def _sparse_and_low_rank(rng: np.random.Generator, n_items: int, rank: int, width: int) -> tuple:
    """Random inputs of build_sparse_topk_graph: padded sparse rows (columns, values) and the
    low-rank factors (left, right)."""
    columns = rng.integers(0, n_items, size=(n_items, width))
    values = (rng.random((n_items, width)) * 0.2).astype(np.float32)
    left = rng.normal(size=(n_items, rank)).astype(np.float32) * 0.1
    right = rng.normal(size=(rank, n_items)).astype(np.float32) * 0.1
    return columns, values, left, right


def test_the_int8_low_rank_part_ranks_as_the_float_one():
    """Large catalogs serve `right` as int8 (onnx_graph.INT8_LOW_RANK_FROM): the top k must stay
    the float graph's, scores within a percent of the low-rank part's scale. On a CPU with AVX2
    and no AVX-512 VNNI, a uint8 x int8 graph fails here (its kernel saturates: 20 % off)."""
    rng = np.random.default_rng(5)
    n_items = 3000
    columns, values, left, right = _sparse_and_low_rank(rng, n_items, rank=24, width=16)
    graphs = {
        q: session_from(
            build_sparse_topk_graph(
                columns, values, n_items, left, right, int8_low_rank=q
            ).SerializeToString()
        )
        for q in (False, True)
    }
    assert right.size < INT8_LOW_RANK_FROM  # forced here; chosen by size in serving
    allowed = (rng.random((1, n_items)) < 0.8).astype(np.float32)
    overlaps, worst = [], 0.0
    for _ in range(200):
        inputs = rng.choice(n_items, size=int(rng.integers(1, 8)), replace=False)
        feeds = {
            "inputs": inputs.astype(np.int64),
            "values": rng.random(inputs.size).astype(np.float32) + 0.5,
            "allowed": allowed,
            "k": np.array([10], dtype=np.int64),
        }
        (float_values, float_top), (int8_values, int8_top) = (
            graphs[q].run(None, feeds) for q in (False, True)
        )
        scale = np.abs((feeds["values"] @ left[inputs]) @ right).max()
        worst = max(worst, float(np.abs(int8_values - float_values).max() / scale))
        overlaps.append(len(set(float_top[0]) & set(int8_top[0])) / 10)
        assert allowed[0, int8_top[0]].all()  # the mask holds as before
    assert worst < 0.01
    assert np.mean(overlaps) >= 0.95 and min(overlaps) >= 0.8


def _as_exported_before(graph: onnx.ModelProto) -> bytes:
    """The graph as exported before 2026-12-07: the low-rank codes int8, no zero point for them."""
    old = onnx.ModelProto()
    old.CopyFrom(graph)
    kept = [t for t in old.graph.initializer if t.name != "right_zero"]
    for tensor in kept:
        if tensor.name == "right_q":
            codes = numpy_helper.to_array(tensor).astype(np.int16) - 128
            tensor.CopyFrom(numpy_helper.from_array(codes.astype(np.int8), "right_q"))
    del old.graph.initializer[:]
    old.graph.initializer.extend(kept)
    for node in old.graph.node:
        if node.op_type == "MatMulInteger":
            inputs = list(node.input)[:3]
            del node.input[:]
            node.input.extend(inputs)
    return old.SerializeToString()


def test_a_graph_with_int8_codes_is_served_as_one_with_uint8_codes():
    """Models exported before the uint8 codes are rewritten when loaded (session_from): the
    same scores, bit for bit, as a graph exported today, on every CPU; other graphs untouched."""
    rng = np.random.default_rng(9)
    n_items = 2000
    columns, values, left, right = _sparse_and_low_rank(rng, n_items, rank=16, width=8)
    today = build_sparse_topk_graph(columns, values, n_items, left, right, int8_low_rank=True)
    before = _as_exported_before(today)
    rewritten = onnx.load_from_string(with_exact_integer_products(before))
    codes = {t.name: numpy_helper.to_array(t) for t in rewritten.graph.initializer}
    assert codes["right_q"].dtype == np.uint8
    assert np.array_equal(
        codes["right_q"],
        numpy_helper.to_array(next(t for t in today.graph.initializer if t.name == "right_q")),
    )
    sessions = [session_from(graph) for graph in (today.SerializeToString(), before)]
    for _ in range(50):
        inputs = rng.choice(n_items, size=int(rng.integers(1, 6)), replace=False)
        feeds = {
            "inputs": inputs.astype(np.int64),
            "values": rng.random(inputs.size).astype(np.float32) + 0.5,
            "allowed": np.ones((1, n_items), dtype=np.float32),
            "k": np.array([10], dtype=np.int64),
        }
        (today_values, today_top), (before_values, before_top) = (s.run(None, feeds) for s in sessions)
        assert np.array_equal(today_values, before_values) and np.array_equal(today_top, before_top)
    float_graph = build_sparse_topk_graph(columns, values, n_items, left, right).SerializeToString()
    assert with_exact_integer_products(float_graph) is float_graph
    fresh = today.SerializeToString()
    assert with_exact_integer_products(fresh) is fresh  # uint8 codes already
