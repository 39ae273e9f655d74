import numpy as np
import pytest

from common.onnx_runtime import ort
from reco_svc.offline.models import make_model
from reco_svc.offline.models.ease import EaseModel
from reco_svc.onnx_graph import build_topk_graph, export_model, topk_inputs


def _session(weights: np.ndarray) -> ort.InferenceSession:
    model = build_topk_graph(weights)
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def test_onnx_matches_numpy_and_respects_the_mask():
    rng = np.random.default_rng(1)
    n_items, batch, k = 40, 6, 5
    weights = rng.normal(size=(n_items, n_items)).astype(np.float32)
    x = (rng.random((batch, n_items)) < 0.2).astype(np.float32)
    allowed = rng.random((batch, n_items)) < 0.5
    values, indices = _session(weights).run(None, topk_inputs(x, allowed, k))

    scores = x @ weights
    masked = np.where(allowed, scores, -np.inf)
    expected_idx = np.argsort(-masked, axis=1, kind="stable")[:, :k]
    np.testing.assert_allclose(values, np.take_along_axis(masked, expected_idx, axis=1), rtol=1e-5, atol=1e-5)
    assert np.array_equal(indices, expected_idx)
    assert np.take_along_axis(allowed, indices, axis=1).all()


def test_masked_items_never_returned_even_when_k_exceeds_allowed():
    weights = np.ones((6, 6), dtype=np.float32)
    allowed = np.array([[0, 1, 0, 0, 1, 0]], dtype=np.float32)
    values, indices = _session(weights).run(None, topk_inputs(np.ones((1, 6)), allowed, 4))
    assert sorted(indices[0, :2].tolist()) == [1, 4]
    assert indices[0, 2:].tolist() == [-1, -1]
    assert np.isneginf(values[0, 2:]).all()


def test_exported_ease_file_equals_model_scores(tmp_path, co_consumed_matrix):
    model = EaseModel(l2=5.0).fit(co_consumed_matrix)
    path = export_model(model, tmp_path / "ease.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = co_consumed_matrix[:3].toarray()
    allowed = x == 0  # already picked items are excluded
    values, indices = session.run(None, topk_inputs(x, allowed, 3))
    expected = model.score(co_consumed_matrix[:3])
    np.testing.assert_allclose(values, np.take_along_axis(expected, indices, axis=1), rtol=1e-5, atol=1e-5)
    assert not np.take_along_axis(x, indices, axis=1).any()


@pytest.mark.parametrize("name", ["ease_lowpass", "rp3beta_lowpass", "cooccurrence"])
def test_exported_registry_models_match_their_scores(name, tmp_path, co_consumed_matrix):
    _, model = make_model(name, co_consumed_matrix.shape[1])
    model.fit(co_consumed_matrix)
    session = ort.InferenceSession(
        str(export_model(model, tmp_path / "m.onnx")), providers=["CPUExecutionProvider"]
    )
    x = co_consumed_matrix.toarray()
    values, indices = session.run(None, topk_inputs(x, np.ones_like(x), 10))
    expected = model.score(co_consumed_matrix)
    np.testing.assert_allclose(values, np.take_along_axis(expected, indices, axis=1), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.sort(values, axis=1), np.sort(expected, axis=1), rtol=1e-4, atol=1e-5)


def test_export_rejects_non_item_item_models(tmp_path):
    with pytest.raises(TypeError):
        export_model(object(), tmp_path / "x.onnx")
