"""The periodic-task helper every background loop runs in: timing, failures, wake, end, stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import pytest

from common.periodic import DONE, Periodic


class Runs:
    """A run that records when it happened; fails while `failing` is set."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.failing = False
        self.changed = asyncio.Condition()

    async def __call__(self) -> None:
        self.times.append(time.monotonic())
        async with self.changed:
            self.changed.notify_all()
        if self.failing:
            raise RuntimeError("database away")

    async def reach(self, n: int, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(lambda: len(self.times) >= n)


@contextlib.asynccontextmanager
async def running(*tasks: Periodic):
    for task in tasks:
        task.start()
    try:
        yield
    finally:
        for task in tasks:
            await task.stop()


async def test_the_first_run_comes_after_one_period_unless_asked_at_once():
    later, at_once = Runs(), Runs()
    started = time.monotonic()
    waiting = Periodic("later", later, every=0.3, jitter=0)
    eager = Periodic("at once", at_once, every=0.3, first_after=0, jitter=0)
    async with running(waiting, eager):
        await at_once.reach(1)
        assert at_once.times[0] - started < 0.2
        assert later.times == []
        await later.reach(1)
        assert later.times[0] - started >= 0.29


async def test_runs_repeat_every_period():
    runs = Runs()
    async with running(Periodic("tick", runs, every=0.05, first_after=0, jitter=0)):
        await runs.reach(5)
    gaps = [b - a for a, b in zip(runs.times, runs.times[1:], strict=False)]
    assert min(gaps) >= 0.045


async def test_a_failure_is_logged_and_backs_off_until_a_success_resets_the_period(caplog):
    runs = Runs()
    runs.failing = True
    task = Periodic("flaky flush", runs, every=0.05, first_after=0, jitter=0, max_backoff=0.15)
    with caplog.at_level(logging.ERROR, logger="common.periodic"):
        async with running(task):
            await runs.reach(4)
            assert task.running  # it outlived the failures
            assert task.failures >= 3
            # pauses after 1, 2, 3 failures: 0.1, 0.2 capped to 0.15, 0.15
            gaps = [b - a for a, b in zip(runs.times, runs.times[1:], strict=False)]
            assert gaps[0] >= 0.095 and gaps[1] >= 0.145 and gaps[2] >= 0.145
            runs.failing = False
            await runs.reach(len(runs.times) + 2)
            assert task.failures == 0
            assert task.pause() == pytest.approx(0.05)
    failed = [r for r in caplog.records if r.getMessage() == "flaky flush failed"]
    assert len(failed) >= 3
    assert failed[0].exc_info is not None and "database away" in str(failed[0].exc_info[1])
    assert failed[0].fields["failures"] == 1 and failed[0].fields["retry_in_s"] == pytest.approx(0.1)


async def test_wake_ends_the_pause_and_a_wake_during_a_run_is_not_lost():
    runs = Runs()
    task = Periodic("watch", runs, every=30.0, first_after=0, jitter=0)
    async with running(task):
        await runs.reach(1)
        task.wake()
        await runs.reach(2, timeout=2.0)  # not 30 s later

        release = asyncio.Event()
        inside = asyncio.Event()

        async def slow() -> None:
            await runs()
            inside.set()
            await release.wait()

        task.run = slow
        task.wake()
        async with asyncio.timeout(2.0):
            await inside.wait()
        task.wake()  # a notification while the run is in progress
        release.set()
        await runs.reach(4, timeout=2.0)  # the next run comes at once, not after 30 s


async def test_a_run_returning_done_ends_the_task():
    runs = Runs()

    async def until_three() -> object:
        await runs()
        return DONE if len(runs.times) == 3 else None

    task = Periodic("bootstrap", until_three, every=0.01, first_after=0, jitter=0)
    task.start()
    await runs.reach(3)
    await asyncio.sleep(0.1)
    assert not task.running
    assert len(runs.times) == 3
    await task.stop()  # harmless once ended


async def test_stop_cancels_a_run_in_progress_and_nothing_runs_after_it():
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def long_run() -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    task = Periodic("training", long_run, every=0.01, first_after=0)
    await task.stop()  # before start: nothing to do
    task.start()
    async with asyncio.timeout(2.0):
        await started.wait()
    async with asyncio.timeout(2.0):
        await task.stop()
    assert cancelled.is_set()
    assert not task.running

    runs = Runs()
    async with running(Periodic("paused", runs, every=0.05, first_after=0)):
        await runs.reach(1)
    count = len(runs.times)
    await asyncio.sleep(0.2)
    assert len(runs.times) == count


def test_pauses_are_spread_by_the_jitter():
    task = Periodic("poll", Runs(), every=10.0, jitter=0.2)
    pauses = [task.pause() for _ in range(2000)]
    assert 8.0 <= min(pauses) < 8.3
    assert 11.7 < max(pauses) <= 12.0
    task.failures = 10
    backoffs = [task.pause() for _ in range(2000)]
    assert min(backoffs) >= 30 * 0.8 and max(backoffs) <= 30 * 1.2  # capped at 30 s by default, jittered
