import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from reco_svc.offline.splits import per_item_split


def test_per_item_counts_follow_the_75_25_rule():
    # Item c has c events: round(0.75 * c) go to training (Python's round, halves to even).
    items = np.repeat(np.arange(1, 9), np.arange(1, 9))
    train, test = per_item_split(items, seed=3)
    expected = {1: 1, 2: 2, 3: 2, 4: 3, 5: 4, 6: 4, 7: 5, 8: 6}
    for item, n_train in expected.items():
        assert train[items == item].sum() == n_train
    assert np.array_equal(train, ~test)


def test_seed_reproduces_and_changes_the_split():
    items = np.repeat(np.arange(20), 40)
    first, _ = per_item_split(items, seed=42)
    again, _ = per_item_split(items, seed=42)
    other, _ = per_item_split(items, seed=43)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_split_is_random_within_an_item_not_first_events():
    items = np.zeros(400, dtype=int)
    train, _ = per_item_split(items, seed=0)
    assert train.sum() == 300
    assert not train[:300].all()  # the training part is not simply the first rows


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=15), min_size=1, max_size=300), st.integers(0, 10**6))
def test_property_every_item_keeps_its_share(item_list, seed):
    items = np.asarray(item_list)
    train, test = per_item_split(items, seed=seed)
    for item in np.unique(items):
        count = int((items == item).sum())
        assert train[items == item].sum() == round(0.75 * count)
        assert test[items == item].sum() == count - round(0.75 * count)
