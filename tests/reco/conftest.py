import numpy as np
import pytest
import scipy.sparse as sp


@pytest.fixture
def co_consumed_matrix() -> sp.csr_matrix:
    """30 users x 10 items: items 0 and 1 are always picked together by users 0-19, plus noise."""
    rng = np.random.default_rng(0)
    dense = np.zeros((30, 10), dtype=np.float32)
    dense[:20, 0] = 1.0
    dense[:20, 1] = 1.0
    for user in range(30):
        dense[user, rng.choice(np.arange(2, 10), size=2, replace=False)] = 1.0
    return sp.csr_matrix(dense)
