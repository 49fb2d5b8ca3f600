"""Tune a notebook's parameters with Optuna (TPE or random search); the study resumes.

The search space is a YAML mapping (:mod:`mlnb.pipeline.tune_space`). The metric is what
the notebook records with ``mlnb.record(name, value)``. Running ``tune`` again with the
same storage continues the study until it holds ``trials`` finished trials.

Where trials run:

* ``backend="local"`` (or ``"slurm"``): on the executors of :mod:`mlnb.pipeline.backends`,
  ``jobs`` at a time; Optuna's ask/tell interface is driven from this process only, so the
  SQLite study never sees concurrent writers. ``prune="median"`` or ``"asha"`` (local, not
  Slurm) stops trials through :mod:`mlnb.pipeline.prune_monitor`.
* ``backend="ray"``: on Ray Tune (:mod:`mlnb.pipeline.ray_tune`), with the same study as
  its search algorithm and ``prune="asha"`` (or ``"median"``) as its trial scheduler.
"""

from __future__ import annotations

import os
import time
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlnb import display
from mlnb.exceptions import InvalidArgumentError, MissingDependencyError
from mlnb.pipeline.loading import load_notebook, resolve_kernel
from mlnb.pipeline.options import check_options
from mlnb.pipeline.prune_monitor import PruneMonitor
from mlnb.pipeline.run import DEFAULT_START_TIMEOUT, RunTask
from mlnb.pipeline.study import (
    SAMPLERS,
    TuneJob,
    make_pruner,
    open_study,
    tell_record,
    trials_left,
)
from mlnb.pipeline.trials import check_direction, check_trial_values, run_trials
from mlnb.pipeline.tune_space import Dimension, load_space, parse_space
from mlnb.runs.records import RunRecord, new_run_id
from mlnb.seed import resolve_seed

__all__ = ["PRUNERS", "Dimension", "TuneResult", "load_space", "parse_space", "tune"]

#: pruners ``--prune`` takes: ``median`` (Optuna's locally, Ray Tune's on Ray) and ``asha`` (Ray Tune)
PRUNERS = ("median", "asha")


@dataclass
class TuneResult:
    """The study after this call: every trial's params, value and state, and the best one."""

    study: Any
    metric: str
    output_dir: str
    seconds: float
    ran: int
    pruned: int = 0

    def rows(self) -> tuple[list[str], list[list[Any]]]:
        """Headers and rows: trial, state, params, metric value."""
        trials = self.study.get_trials(deepcopy=False)
        params = list(dict.fromkeys(k for t in trials for k in t.params))
        best = self.best_number()
        rows = [
            [f"{t.number}{' *' if t.number == best else ''}", t.state.name.lower()]
            + [t.params.get(p, "") for p in params]
            + [t.value if t.value is not None else "—"]
            for t in trials
        ]
        return ["trial", "state", *params, self.metric], rows

    def best_number(self) -> int | None:
        """The best trial's number, or None before any trial completed."""
        try:
            return self.study.best_trial.number
        except ValueError:
            return None

    def text(self) -> str:
        """The table and the best trial."""
        headers, rows = self.rows()
        number = self.best_number()
        if number is None:
            best = "best: none yet (no trial completed)"
        else:
            trial = self.study.best_trial
            params = " ".join(f"{k}={display.format_value(v)}" for k, v in trial.params.items())
            best = f"best: trial {number} ({self.metric}={display.format_value(trial.value)}, {self.study.direction.name.lower()}) {params}"
        return display.text_table(headers, rows) + "\n" + best


def tune(
    notebook: str | os.PathLike[str],
    space: Mapping[str, Dimension],
    metric: str,
    *,
    direction: str = "max",
    trials: int = 20,
    jobs: int = 1,
    seed: int | None = None,
    study_name: str | None = None,
    storage: str | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    fixed: Mapping[str, Any] | None = None,
    kernel: str | None = None,
    timeout: float | None = None,
    start_timeout: int = DEFAULT_START_TIMEOUT,
    backend: str = "local",
    address: str | None = None,
    backend_options: Mapping[str, Any] | None = None,
    progress: bool = True,
    prune: str | None = None,
    prune_startup: int = 5,
    prune_warmup: int = 0,
    warm: bool = True,
    sampler: str = "tpe",
) -> TuneResult:
    """Run Optuna trials of a notebook until the study holds ``trials`` finished ones.

    Args:
        notebook: the notebook (it needs a ``parameters`` cell and records ``metric``).
        space: parameter → :class:`Dimension` (see :func:`load_space`).
        metric: the recorded value to optimise.
        direction: ``"max"`` or ``"min"``.
        trials: finished trials the study should hold when this returns.
        jobs: trials at once.
        seed: pinned in every trial and seeds the sampler; default drawn.
        study_name: default the notebook's stem.
        storage: an Optuna storage URL; default ``sqlite:///tune/<stem>.db`` beside it.
        output_dir: trial notebooks (default ``tune/<stem>/`` beside the notebook).
        fixed, kernel, timeout, start_timeout, backend, address, progress: as for sweeps.
        backend_options: the backend's own settings (``ray_resources``, ``slurm_partition``...).
        prune: ``"median"`` stops trials whose intermediate values (``mlnb.log`` of
            ``metric`` at steps) fall below the median of earlier trials at the same step;
            ``"asha"`` is asynchronous successive halving on the same values (Optuna's
            ``SuccessiveHalvingPruner``; Ray Tune's ASHA scheduler with ``backend="ray"``);
            None runs every trial to the end.
        prune_startup: trials that finish unpruned before pruning starts (Optuna's
            ``n_startup_trials``).
        prune_warmup: steps a trial always runs before it may be pruned (``n_warmup_steps``;
            ASHA's ``grace_period``).
        warm: fork each trial's kernel from a pre-loaded process (local backend; see sweeps).
        sampler: ``"tpe"`` (Optuna's TPE, the default) or ``"random"`` (random search: a
            trial's point depends only on the seed and its number, so two searches with the
            same seed try the same points whatever the earlier trials gave).

    Raises:
        MissingDependencyError: optuna (or, for ``backend="ray"``, ray) is not installed.
        MetricNotRecordedError: the first finished trial did not record ``metric``.
        InvalidArgumentError: an unknown pruner or sampler, or a pruner the backend cannot run.
    """
    settings: dict[str, Any] = dict(
        jobs=jobs,
        kernel=kernel,
        timeout=timeout,
        start_timeout=start_timeout,
        prune=prune,
        prune_startup=prune_startup,
        prune_warmup=prune_warmup,
        backend=backend,
        address=address,
        backend_options=dict(backend_options or {}),
        progress=progress,
        warm=warm,
    )
    _check_tune_arguments(direction, trials, sampler, settings)
    path = Path(notebook)
    fixed = dict(fixed or {})
    _check_notebook(path, space, fixed, kernel)
    seed_value, _ = resolve_seed(seed)
    out, storage = _places(path, output_dir, storage)
    # on Ray, Ray Tune's schedulers prune; here, Optuna's pruners
    local_pruner = make_pruner(prune, prune_startup, prune_warmup) if backend != "ray" else None
    study = open_study(
        study_name or path.stem, storage, direction, seed_value, local_pruner, sampler
    )
    remaining = trials_left(study, trials)
    job = TuneJob(path, out, space, metric, fixed, seed_value, remaining, **settings)
    started = time.perf_counter()
    ran, pruned = _search(study, job) if job.remaining else (0, 0)
    return TuneResult(study, metric, str(out), time.perf_counter() - started, ran, pruned)


def _check_notebook(
    path: Path, space: Mapping[str, Dimension], fixed: dict[str, Any], kernel: str | None
) -> None:
    """Refuse, before the study opens, a missing kernel and values the notebook cannot take."""
    nb = load_notebook(path)
    resolve_kernel(nb, kernel)  # a missing kernel is refused now, not by every trial
    check_trial_values(
        nb, path, fixed, ((dim.name, value) for dim in space.values() for value in dim.examples())
    )


def _places(
    path: Path, output_dir: str | os.PathLike[str] | None, storage: str | None
) -> tuple[Path, str]:
    """The trial notebooks' folder (created) and the study's storage URL, defaults beside
    the notebook: ``tune/<stem>/`` and ``sqlite:///tune/<stem>.db``."""
    home = path.resolve().parent / "tune"
    out = Path(output_dir) if output_dir else home / path.stem
    out.mkdir(parents=True, exist_ok=True)
    if storage is None:
        home.mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{home / (path.stem + '.db')}"
    return out, storage


def _check_tune_arguments(
    direction: str, trials: int, sampler: str, settings: dict[str, Any]
) -> None:
    """Refuse what cannot run before the study is opened (optuna missing, a bad pruner...)."""
    prune, backend = settings["prune"], settings["backend"]
    try:
        import optuna  # noqa: F401
    except ImportError:
        feature = f"mlnb tune --prune {prune}" if prune else "mlnb tune"
        raise MissingDependencyError("optuna", feature, "optuna") from None
    check_direction(direction)
    check_options(trials=trials, **settings, **settings["backend_options"])
    if sampler not in SAMPLERS:
        raise InvalidArgumentError(
            f"--sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}."
        )
    if prune is not None and prune not in PRUNERS:
        raise InvalidArgumentError(f"--prune must be one of {', '.join(PRUNERS)}, got {prune!r}.")
    if prune is not None and backend not in ("local", "ray"):
        raise InvalidArgumentError(
            f"--prune reads the trials' values while they run, which --backend {backend} cannot show — use --backend local or ray."
        )


def _search(study: Any, job: TuneJob) -> tuple[int, int]:
    """Run ``job.remaining`` trials on the job's backend; returns (ran, pruned)."""
    if job.backend == "ray":
        from mlnb.pipeline.ray_tune import tune_on_ray

        return tune_on_ray(study, job)
    search = _AskTell(study, job)
    try:
        run_trials(
            search.tasks(),
            search.tell,
            total=job.remaining,
            jobs=job.jobs,
            backend=job.backend,
            address=job.address,
            backend_options=job.backend_options,
            label=f"tune {job.notebook.name}",
            progress=job.progress,
        )
    finally:
        if search.monitor is not None:
            search.monitor.close()
    return search.submitted, search.pruned


class _AskTell:
    """The local search: asks the study for each trial's point as a slot frees, tells it
    each outcome; with ``prune="median"`` a :class:`PruneMonitor` stops trials early."""

    def __init__(self, study: Any, job: TuneJob) -> None:
        self.study = study
        self.job = job
        self.in_flight: dict[int, Any] = {}
        self.submitted = self.pruned = 0
        self.monitor = PruneMonitor(job.metric, job.prune) if job.prune else None

    def tasks(self) -> Iterator[tuple[Hashable, RunTask]]:
        """One task per trial, each drawn from the sampler when it can start."""
        for _ in range(self.job.remaining):
            trial = self.study.ask()
            params = {name: dim.suggest(trial) for name, dim in self.job.space.items()}
            self.in_flight[trial.number] = trial
            self.submitted += 1
            run_id = new_run_id()
            stop_file = self.monitor.watch(trial, run_id) if self.monitor is not None else None
            yield (
                trial.number,
                self.job.task(trial.number, params, run_id=run_id, stop_file=stop_file),
            )

    def tell(self, number: Hashable, record: RunRecord | None) -> bool:
        """Tell the study how the trial ended (the monitor reads its last points first)."""
        trial = self.in_flight.pop(int(number))  # type: ignore[call-overload]  # executors hand back the int key they were given
        if self.monitor is not None:
            self.monitor.settle(trial, record)
        if tell_record(self.study, trial, record, self.job.metric) == "PRUNED":
            self.pruned += 1
        return True
