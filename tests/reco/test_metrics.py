import math

import pytest

from reco_svc.offline import ranking_metrics as metrics

# recommended [1, 2, 3, 4], relevant {2, 4, 9}: hits at ranks 2 and 4.
RECS = [1, 2, 3, 4]
RELEVANT = {2, 4, 9}


def test_precision_divides_by_k():
    assert metrics.precision_at_k(RECS, RELEVANT, k=4) == pytest.approx(0.5)
    # A short list is still divided by k (MS Recommenders behaviour).
    assert metrics.precision_at_k([2], RELEVANT, k=10) == pytest.approx(0.1)


def test_recall():
    assert metrics.recall_at_k(RECS, RELEVANT, k=4) == pytest.approx(2 / 3)
    assert metrics.recall_at_k(RECS, RELEVANT, k=1) == 0.0


def test_ndcg_hand_computed():
    dcg = 1 / math.log2(3) + 1 / math.log2(5)  # 0.63093 + 0.43068
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)  # min(3 relevant, k=4) positions
    assert metrics.ndcg_at_k(RECS, RELEVANT, k=4) == pytest.approx(dcg / ideal)
    assert metrics.ndcg_at_k(RECS, RELEVANT, k=4) == pytest.approx(0.498189, abs=1e-6)


def test_ndcg_perfect_and_empty():
    assert metrics.ndcg_at_k([9, 2, 4, 1], RELEVANT, k=4) == pytest.approx(1.0)
    assert metrics.ndcg_at_k([5, 6], RELEVANT, k=10) == 0.0
    assert metrics.ndcg_at_k([5, 6], set(), k=10) == 0.0


def test_map_divides_by_number_of_relevant():
    # precision at the hits: 1/2 and 2/4; divided by |relevant| = 3.
    assert metrics.map_at_k(RECS, RELEVANT, k=4) == pytest.approx((0.5 + 0.5) / 3)
    assert metrics.map_at_k([2, 4, 9], RELEVANT, k=10) == pytest.approx(1.0)


def test_coverage():
    assert metrics.catalog_coverage([[0, 1], [1, 2]], n_items=6) == pytest.approx(0.5)


def test_mean_ranking_metrics_skips_users_without_relevant_items():
    result = metrics.mean_ranking_metrics({0: RECS, 1: [7]}, {0: RELEVANT, 1: set()}, k=4)
    assert result["precision@4"] == pytest.approx(0.5)
    assert result["map@4"] == pytest.approx(1 / 3)
