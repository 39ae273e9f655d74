import numpy as np
import pytest
import scipy.sparse as sp

from reco_svc.offline.evaluation import top_k
from reco_svc.offline.models import MODELS, make_model
from reco_svc.offline.models.blend import BlendModel
from reco_svc.offline.models.cooccurrence import CooccurrenceModel, cooccurrence_similarity
from reco_svc.offline.models.ease import EaseModel
from reco_svc.offline.models.lowpass import LowPassModel
from reco_svc.offline.models.rp3beta import RP3BetaModel

# A user who picked only item 0: item 1 (always picked with it) must come first.
PICKED_ITEM_0 = sp.csr_matrix(np.eye(1, 10, 0, dtype=np.float32))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_registered_model_ranks_the_co_consumed_item_first(name, co_consumed_matrix):
    _, model = make_model(name, co_consumed_matrix.shape[1])
    model.fit(co_consumed_matrix)
    scores = model.score(PICKED_ITEM_0)
    assert scores.shape == (1, 10)
    assert top_k(scores, 1, exclude=PICKED_ITEM_0)[0, 0] == 1


@pytest.mark.parametrize(
    "model",
    [
        EaseModel(l2=1.0, dropout=0.3, user_gamma=0.5, item_alpha=0.4, degree_beta=0.1),
        RP3BetaModel(alpha=0.5, beta=0.0, neighbours=3),
        CooccurrenceModel("jaccard", neighbours=2),
        BlendModel([(0.7, EaseModel(l2=5.0)), (0.3, RP3BetaModel())]),
    ],
    ids=["ease-all-options", "rp3beta-sparse", "jaccard-top2", "blend"],
)
def test_model_variants_rank_the_co_consumed_item_first(model, co_consumed_matrix):
    model.fit(co_consumed_matrix)
    assert top_k(model.score(PICKED_ITEM_0), 1, exclude=PICKED_ITEM_0)[0, 0] == 1


def test_ease_has_zero_diagonal(co_consumed_matrix):
    weights = EaseModel(l2=1.0).fit(co_consumed_matrix).dense_weights()
    assert np.allclose(np.diag(weights), 0.0)


def test_cooccurrence_similarities_hand_computed():
    # Item 0: users {0, 1}; item 1: users {0, 1, 2}; co-count 2.
    x = sp.csr_matrix(np.array([[1, 1], [1, 1], [0, 1]], dtype=np.float32))
    expected = {"cosine": 2 / np.sqrt(6), "jaccard": 2 / 3, "lift": 2 / 6, "count": 2.0}
    for similarity, value in expected.items():
        sim = cooccurrence_similarity(x, similarity).toarray()
        assert sim[0, 1] == pytest.approx(value)
        assert sim[0, 0] == 0.0


def test_similar_items(co_consumed_matrix):
    model = CooccurrenceModel().fit(co_consumed_matrix)
    assert model.similar_items(0, k=1)[0] == 1


def test_large_catalogs_fall_back_from_dense_ease():
    assert make_model("ease_lowpass", 100_000)[0] == "sparse_ease_lowpass"
    with pytest.raises(ValueError, match="sparse_ease_lowpass"):
        EaseModel(max_items=5).fit(sp.csr_matrix((3, 6), dtype=np.float32))


def test_score_before_fit_fails():
    with pytest.raises(RuntimeError):
        EaseModel().score(PICKED_ITEM_0)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_fit_leaves_the_input_untouched_and_scores_dense_rows(name, co_consumed_matrix):
    weighted = co_consumed_matrix.copy()
    weighted.data *= 3.0
    _, model = make_model(name, weighted.shape[1])
    model.fit(weighted)
    assert np.all(weighted.data == 3.0)
    dense_scores = model.score(PICKED_ITEM_0.toarray())
    np.testing.assert_allclose(dense_scores, model.score(PICKED_ITEM_0), rtol=1e-6)


def test_lowpass_handles_degenerate_shapes():
    one_item = sp.csr_matrix(np.ones((4, 1), dtype=np.float32))
    assert LowPassModel(rank=16).fit(one_item).score(one_item).shape == (4, 1)


FITTING_ON_WEIGHTS = [EaseModel(l2=5.0), LowPassModel(rank=3), RP3BetaModel(neighbours=5)]


@pytest.mark.parametrize("model", FITTING_ON_WEIGHTS, ids=["ease", "lowpass", "rp3beta"])
def test_an_all_equal_matrix_fits_as_the_binary_one(model, co_consumed_matrix):
    binary = sp.csr_matrix(co_consumed_matrix, dtype=np.float32)
    binary.data[:] = 1.0
    scaled = binary * np.float32(np.log1p(1.0))  # what a plain file becomes in training
    rows = sp.csr_matrix(np.eye(3, 10, dtype=np.float32))
    first = model.fit(binary).score(rows)
    assert np.array_equal(first, model.fit(scaled).score(rows))


@pytest.mark.parametrize("model", FITTING_ON_WEIGHTS, ids=["ease", "lowpass", "rp3beta"])
def test_a_pair_kept_at_the_floor_weighs_almost_nothing_in_the_fit(model, co_consumed_matrix):
    """Item 0's pairs at reading.FLOOR (opened and left) fit as if they were nearly absent: item 0
    no longer lifts the items it was co-consumed with."""
    weights = sp.csr_matrix(co_consumed_matrix, dtype=np.float32)
    weights.data[:] = 1.0
    floored = weights.tolil()
    floored[:, 0] = floored[:, 0].multiply(0.01)
    without = weights.tolil()
    without[:, 0] = 0.0
    item_1 = sp.csr_matrix(np.eye(1, 10, 1, dtype=np.float32))
    full = model.fit(weights).score(item_1)[0]
    kept = model.fit(sp.csr_matrix(floored)).score(item_1)[0]
    gone = model.fit(sp.csr_matrix(without)).score(item_1)[0]
    assert abs(kept[0] - gone[0]) < 0.1 * abs(full[0] - gone[0])
