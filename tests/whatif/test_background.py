"""``BackgroundTask``: one live computation, progress reported, a newer start cancels the older."""

from __future__ import annotations

import threading

from mlnb.exceptions import WhatIfError
from mlnb.whatif.background import BackgroundTask


class Recorder:
    def __init__(self) -> None:
        self.progress: list[tuple[int, int]] = []
        self.done: list[object] = []
        self.errors: list[str] = []

    def task(self) -> BackgroundTask:
        return BackgroundTask(
            lambda done, total: self.progress.append((done, total)),
            self.done.append,
            lambda error: self.errors.append(str(error)),
        )


def test_progress_reaches_the_total_and_the_result_is_applied():
    seen = Recorder()
    task = seen.task()

    def compute(progress):
        for step in range(1, 6):
            progress(step, 5)
        return "surface"

    task.start(compute)
    assert task.wait(timeout=10)
    assert seen.progress == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert seen.done == ["surface"]
    assert (task.started, task.finished, task.cancelled) == (1, 1, 0)


def test_a_newer_start_cancels_the_stale_computation_at_its_next_report():
    seen = Recorder()
    task = seen.task()
    gate = threading.Event()
    entered = threading.Event()

    def stale(progress):
        entered.set()
        gate.wait(timeout=20)
        progress(1, 2)  # raises Cancelled: a newer computation was started
        return "stale"

    task.start(stale)
    assert entered.wait(timeout=10)
    task.start(lambda progress: "fresh")
    gate.set()
    assert task.wait(timeout=10)
    for thread in threading.enumerate():
        if thread.name == "mlnb-whatif-task":
            thread.join(timeout=10)
    assert seen.done == ["fresh"]
    assert seen.progress == []
    assert (task.started, task.finished, task.cancelled) == (2, 1, 1)


def test_an_mlnb_error_is_reported_and_cancel_stops_a_running_one():
    seen = Recorder()
    task = seen.task()

    def fails(progress):
        raise WhatIfError("every value of this feature is missing, so it has no grid.")

    task.start(fails)
    task.wait(timeout=10)
    assert seen.errors == ["every value of this feature is missing, so it has no grid."]

    def endless(progress):
        while True:
            progress(0, 1)

    task.start(endless)
    task.close()
    assert not task.running
    assert task.cancelled == 1 and seen.done == []
