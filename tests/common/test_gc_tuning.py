"""The collector settings a service applies once started (common.gc_tuning)."""

from __future__ import annotations

import gc

import pytest

from common.gc_tuning import FIRST_GENERATION_THRESHOLD, tune_for_serving


@pytest.fixture
def restored_gc():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_start_up_objects_are_frozen_and_young_collections_are_rarer(restored_gc) -> None:
    _, second, third = gc.get_threshold()
    tune_for_serving()
    assert gc.get_freeze_count() > 1000  # this interpreter's modules at least
    assert gc.get_threshold() == (FIRST_GENERATION_THRESHOLD, second, third)


def test_objects_made_after_start_up_are_still_collected(restored_gc) -> None:
    tune_for_serving(first_generation=100)

    class Node:
        pass

    collected_before = sum(s["collected"] for s in gc.get_stats())
    for _ in range(1000):  # reference cycles: only the collector frees them
        a, b = Node(), Node()
        a.other, b.other = b, a
    assert sum(s["collected"] for s in gc.get_stats()) > collected_before
