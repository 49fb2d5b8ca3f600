"""What sweeps and tuning share: the checks before the first trial, and the trial loop.

Both run one notebook many times with different parameters. Before any kernel
starts, every value a trial could get is checked against the notebook's
``parameters`` cell (:func:`check_trial_values`); then :func:`run_trials` keeps
up to ``jobs`` trials in flight on an executor (worker processes or Ray), shows a
progress bar that counts the failures (and the trials a tuner pruned), and hands each
result back as it comes.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlnb.exceptions import InvalidArgumentError
from mlnb.pipeline.parameters import check_parameters
from mlnb.pipeline.run import RunTask
from mlnb.runs.records import RunRecord

if TYPE_CHECKING:
    from nbformat import NotebookNode

DIRECTIONS = ("max", "min")

#: called with each trial's key and record (None: cancelled); returns False to start no more
ResultHandler = Callable[[Hashable, RunRecord | None], bool | None]


def check_direction(direction: str | None, *, optional: bool = False) -> None:
    """Refuse a direction other than ``max``/``min`` (or None, where ``optional``)."""
    if direction is None and optional:
        return
    if direction not in DIRECTIONS:
        raise InvalidArgumentError(f"--direction must be max or min, got {direction!r}.")


def check_trial_values(
    nb: NotebookNode, path: Path, fixed: Mapping[str, Any], candidates: Iterable[tuple[str, Any]]
) -> None:
    """Check every ``(name, value)`` a trial may get, with the fixed parameters, before any
    kernel starts. Sweeps and tuning are strict: an unknown name or a wrong type would only
    make every trial the same (or fail), so they raise the parameter errors."""
    for name, value in candidates:
        check_parameters(nb, {**fixed, name: value}, path, strict=True)


def run_trials(
    tasks: Iterator[tuple[Hashable, RunTask]],
    on_result: ResultHandler,
    *,
    total: int,
    jobs: int,
    backend: str,
    address: str | None,
    label: str,
    progress: bool,
    backend_options: Mapping[str, Any] | None = None,
    eager: bool = False,
) -> None:
    """Run ``tasks`` with up to ``jobs`` in flight, calling ``on_result`` as each ends.

    Tasks are drawn from the iterator only when a slot is free, so a tuner can
    ask its sampler for the next point after seeing the last results. When
    ``on_result`` returns False no further task starts (the ones running finish).
    With ``eager`` (a sweep, whose tasks are all known) an executor that limits its own
    parallelism (``batches``: Slurm's array jobs) gets every task at once.
    The executor is closed however the loop ends.
    """
    from tqdm.auto import tqdm

    from mlnb.pipeline.backends import executors

    executor = executors.create(backend, jobs=jobs, address=address, options=backend_options)
    limit = total if eager and getattr(executor, "batches", False) else jobs
    bar = tqdm(total=total, desc=label, unit="trial", disable=not progress)
    in_flight = failed = pruned = 0
    stopped = False
    try:
        while True:
            while not stopped and in_flight < limit:
                item = next(tasks, None)
                if item is None:
                    break
                executor.submit(*item)
                in_flight += 1
            if in_flight == 0:
                break
            key, record = executor.next_result()
            in_flight -= 1
            if record is not None and record.status == "pruned":
                pruned += 1
            elif record is not None and record.status != "finished":
                failed += 1
            if pruned or failed:
                bar.set_postfix({k: v for k, v in (("failed", failed), ("pruned", pruned)) if v})
            if on_result(key, record) is False:
                stopped = True
            bar.update(1)
    finally:
        bar.close()
        executor.cancel_pending()
        executor.close()
