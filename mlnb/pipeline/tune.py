"""Tune a notebook's parameters with Optuna (TPE); the study lives in SQLite and resumes.

The search space is a YAML mapping, one entry per parameter::

    lr: {low: 1.0e-4, high: 0.1, log: true}   # float range
    epochs: {low: 1, high: 5, type: int}      # int range
    optimizer: [adam, sgd]                     # choices

Trials run on the executors of :mod:`mlnb.pipeline.backends`, ``jobs`` at a time;
Optuna's ask/tell interface is driven from this process only, so the SQLite study
never sees concurrent writers. The metric is what the notebook records with
``mlnb.record(name, value)``. Running ``tune`` again with the same storage continues
the study until it holds ``trials`` finished trials.

Pruning (``prune="median"``, Optuna's ``MedianPruner``): the notebook logs intermediate
values of the metric with ``mlnb.log({metric: value}, step=epoch)`` — with no run of its
own started, that writes to the trial's run in the store (:mod:`mlnb.runs.trial`). A
thread of this process (the one that owns the study) reads each running trial's points
with ``Store.metrics`` every :data:`PRUNE_POLL_SECONDS`, reports new steps with
``trial.report`` and asks ``trial.should_prune()``; a trial to prune is stopped through its
stop file (:func:`mlnb.pipeline.engine.request_stop`, the one message parent → worker): the
worker's engine marks the cell running, interrupts the kernel and ends the run ``pruned``
(output notebook kept). The trial is told to Optuna as ``PRUNED``. A notebook that never
logs the metric is warned about once and its trials run to the end (nothing is lost).
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlnb import display
from mlnb.exceptions import (
    InvalidArgumentError,
    MetricNotRecordedError,
    MissingDependencyError,
    MlnbError,
    MlnbWarning,
    PipelineSpecError,
)
from mlnb.pipeline.loading import load_notebook, resolve_kernel, shorten
from mlnb.pipeline.options import check_options
from mlnb.pipeline.run import DEFAULT_START_TIMEOUT, RunTask
from mlnb.pipeline.section import values_of
from mlnb.pipeline.trials import check_direction, check_trial_values, run_trials
from mlnb.runs.records import RunRecord, new_run_id
from mlnb.seed import resolve_seed

if TYPE_CHECKING:
    import optuna

    from mlnb.runs.store import Store

#: pruners ``--prune`` takes (ASHA on Ray Tune is not built here)
PRUNERS = ("median",)
#: how often the running trials' logged values are read from the run store
PRUNE_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Dimension:
    """One parameter's search range: ``float``/``int`` between low and high, or ``choices``."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: optuna.trial.Trial) -> Any:
        """Ask an Optuna trial for a value."""
        if self.kind == "categorical":
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.low is None or self.high is None:  # parse_space() gives every range both ends
            raise PipelineSpecError(f"{self.name}: a {self.kind} range needs a low and a high.")
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)

    def examples(self) -> tuple[Any, ...]:
        """Values to type-check against the notebook's defaults."""
        return self.choices if self.kind == "categorical" else (self.low, self.high)


def parse_space(data: Any, source: str = "search space") -> dict[str, Dimension]:
    """A search space from its YAML data (see the module docstring).

    Raises:
        PipelineSpecError: an entry that is neither a list of choices nor a range.
    """
    if not isinstance(data, dict) or not data:
        raise PipelineSpecError(
            f"{source} must be a mapping of parameter → range or list of choices."
        )
    space = {}
    for name, spec in data.items():
        where = f"{source}, {name}"
        if isinstance(spec, list) and spec:
            space[name] = Dimension(name, "categorical", choices=tuple(spec))
            continue
        if isinstance(spec, dict) and "choices" in spec and isinstance(spec["choices"], list):
            space[name] = Dimension(name, "categorical", choices=tuple(spec["choices"]))
            continue
        if not isinstance(spec, dict) or not {"low", "high"} <= set(spec):
            raise PipelineSpecError(
                f"{where}: write a list of choices or {{low: ..., high: ..., log: true}}."
            )
        low, high = spec["low"], spec["high"]
        if (
            not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
            or low >= high
        ):
            raise PipelineSpecError(
                f"{where}: low and high must be numbers with low < high, got {low!r}, {high!r}."
            )
        kind = spec.get("type") or (
            "int" if isinstance(low, int) and isinstance(high, int) else "float"
        )
        if kind not in ("int", "float"):
            raise PipelineSpecError(f"{where}: type must be int or float, got {kind!r}.")
        log = bool(spec.get("log", False))
        if log and low <= 0:
            raise PipelineSpecError(f"{where}: a log range needs low > 0, got {low!r}.")
        space[name] = Dimension(
            name,
            kind,
            float(low) if kind == "float" else low,
            float(high) if kind == "float" else high,
            log,
        )
    return space


def load_space(path: str | os.PathLike[str]) -> dict[str, Dimension]:
    """Read a search-space YAML file."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise PipelineSpecError(f"search space file {path} does not exist.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        raise PipelineSpecError(f"{path.name} is not valid YAML.") from None
    return parse_space(data, path.name)


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
    progress: bool = True,
    prune: str | None = None,
    prune_startup: int = 5,
    prune_warmup: int = 0,
    warm: bool = True,
) -> TuneResult:
    """Run Optuna TPE trials of a notebook until the study holds ``trials`` finished ones.

    Args:
        notebook: the notebook (it needs a ``parameters`` cell and records ``metric``).
        space: parameter → :class:`Dimension` (see :func:`load_space`).
        metric: the recorded value to optimise.
        direction: ``"max"`` or ``"min"``.
        trials: finished trials the study should hold when this returns.
        jobs: trials at once.
        seed: pinned in every trial and seeds the TPE sampler; default drawn.
        study_name: default the notebook's stem.
        storage: an Optuna storage URL; default ``sqlite:///tune/<stem>.db`` beside it.
        output_dir: trial notebooks (default ``tune/<stem>/`` beside the notebook).
        fixed, kernel, timeout, start_timeout, backend, address, progress: as for sweeps.
        prune: ``"median"`` stops trials whose intermediate values (``mlnb.log`` of
            ``metric`` at steps) fall below the median of earlier trials at the same step;
            None runs every trial to the end.
        prune_startup: trials that finish unpruned before pruning starts (Optuna's
            ``n_startup_trials``).
        prune_warmup: steps a trial always runs before it may be pruned (``n_warmup_steps``).
        warm: as for sweeps — kernels forked from a pre-loaded zygote (local backend).

    Raises:
        MissingDependencyError: optuna is not installed.
        MetricNotRecordedError: the first finished trial did not record ``metric``.
        InvalidArgumentError: an unknown pruner.
    """
    try:
        import optuna
    except ImportError:
        feature = f"mlnb tune --prune {prune}" if prune else "mlnb tune"
        raise MissingDependencyError("optuna", feature, "optuna") from None
    check_direction(direction)
    check_options(
        trials=trials,
        jobs=jobs,
        timeout=timeout,
        start_timeout=start_timeout,
        prune_startup=prune_startup,
        prune_warmup=prune_warmup,
    )
    if prune is not None and prune not in PRUNERS:
        raise InvalidArgumentError(
            f"--prune must be one of {', '.join(PRUNERS)}, got {prune!r} (ASHA runs on Ray Tune, which mlnb tune does not drive yet)."
        )
    path = Path(notebook)
    nb = load_notebook(path)
    resolve_kernel(nb, kernel)  # a missing kernel is refused now, not by every trial
    fixed = dict(fixed or {})
    check_trial_values(
        nb, path, fixed, ((dim.name, value) for dim in space.values() for value in dim.examples())
    )
    seed_value, _ = resolve_seed(seed)
    home = path.resolve().parent / "tune"
    out = Path(output_dir) if output_dir else home / path.stem
    out.mkdir(parents=True, exist_ok=True)
    if storage is None:
        home.mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{home / (path.stem + '.db')}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(
            study_name=study_name or path.stem,
            storage=storage,
            direction="maximize" if direction == "max" else "minimize",
            sampler=optuna.samplers.TPESampler(seed=seed_value),
            pruner=optuna.pruners.MedianPruner(
                n_startup_trials=prune_startup, n_warmup_steps=prune_warmup
            )
            if prune
            else optuna.pruners.NopPruner(),
            load_if_exists=True,
        )
    except ValueError as exc:  # e.g. an existing study with the other direction
        raise PipelineSpecError(
            f"cannot use study {study_name or path.stem!r} in {storage}: {shorten(str(exc))}."
        ) from None
    except Exception as exc:  # SQLAlchemy: an unknown scheme, a missing driver, no such folder
        raise PipelineSpecError(
            f"--storage {storage} cannot be opened as an Optuna storage ({type(exc).__name__}: {shorten(str(exc), 120)}) — use a URL like sqlite:///tune.db."
        ) from None
    states = (
        optuna.trial.TrialState.COMPLETE,
        optuna.trial.TrialState.FAIL,
        optuna.trial.TrialState.PRUNED,
    )
    remaining = max(0, trials - len(study.get_trials(deepcopy=False, states=states)))
    started = time.perf_counter()
    in_flight: dict[int, Any] = {}
    submitted = pruned = 0
    monitor = _PruneMonitor(metric, prune) if prune and remaining else None

    def tasks() -> Iterator[tuple[Hashable, RunTask]]:
        nonlocal submitted
        for _ in range(remaining):
            trial = study.ask()
            params = {**fixed, **{name: dim.suggest(trial) for name, dim in space.items()}}
            in_flight[trial.number] = trial
            submitted += 1
            run_id = new_run_id()
            stop_file = monitor.watch(trial, run_id) if monitor is not None else None
            yield (
                trial.number,
                RunTask(
                    notebook=str(path),
                    params=params,
                    seed=seed_value,
                    kernel=kernel,
                    output=str(out / f"{path.stem}-trial-{trial.number:03d}.ipynb"),
                    timeout=timeout,
                    start_timeout=start_timeout,
                    tags=["tune", f"trial-{trial.number}"],
                    run_id=run_id,
                    stop_file=stop_file,
                    warm=warm and backend == "local",
                ),
            )

    def tell(number: Hashable, record: RunRecord | None) -> bool:
        nonlocal pruned
        trial = in_flight.pop(int(number))  # type: ignore[call-overload]  # executors hand back the int key they were given
        if monitor is not None:
            monitor.settle(trial, record)
            if record is not None and record.status == "pruned":
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                pruned += 1
                return True
        recorded_values = values_of(record) if record is not None else {}
        value = recorded_values.get(metric)
        if (
            record is not None
            and record.status == "finished"
            and isinstance(value, (int, float))
            and not isinstance(value, bool)
        ):
            study.tell(trial, float(value))
            return True
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        if record is not None and record.status == "finished":
            recorded = ", ".join(recorded_values) or "nothing"
            raise MetricNotRecordedError(
                f"trial {number} finished but did not record a number named {metric!r} (it recorded: {recorded}) — call mlnb.record({metric!r}, value) in the notebook or pick --metric from those."
            )
        return True

    if remaining:
        try:
            run_trials(
                tasks(),
                tell,
                total=remaining,
                jobs=jobs,
                backend=backend,
                address=address,
                label=f"tune {path.name}",
                progress=progress,
            )
        finally:
            if monitor is not None:
                monitor.close()
    return TuneResult(study, metric, str(out), time.perf_counter() - started, submitted, pruned)


class _Watched:
    """A running trial the monitor reads: its run id, stop file, and the last step reported."""

    def __init__(self, trial: Any, run_id: str, stop_file: str) -> None:
        self.trial = trial
        self.run_id = run_id
        self.stop_file = stop_file
        self.last_step = -1
        self.points = 0
        self.stopping = False


class _PruneMonitor:
    """Reads running trials' logged values from the run store, reports them to Optuna and
    stops the trials its pruner prunes. Optuna's storage is thread-safe (its own ``n_jobs``
    reports from threads); one lock keeps a trial from being reported while it is told."""

    def __init__(self, metric: str, pruner: str) -> None:
        self.metric = metric
        self.pruner = pruner
        self.folder = Path(tempfile.mkdtemp(prefix="mlnb-tune-stop-"))
        self.lock = threading.Lock()
        self.watched: dict[int, _Watched] = {}
        self.warned = False
        self._store: Store | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mlnb-tune-prune", daemon=True)
        self._thread.start()

    def watch(self, trial: Any, run_id: str) -> str:
        """Start reading ``trial``'s run; returns the stop file its worker watches."""
        stop_file = str(self.folder / f"{run_id}.stop")
        with self.lock:
            self.watched[trial.number] = _Watched(trial, run_id, stop_file)
        return stop_file

    def settle(self, trial: Any, record: RunRecord | None) -> None:
        """Before a trial is told: report the steps not read yet, stop watching it, and
        warn (once) when a trial that finished never logged the metric."""
        with self.lock:
            watched = self.watched.pop(trial.number, None)
        if watched is None:
            return
        store = self._open()
        rows = store.metrics(watched.run_id, [self.metric]) if store is not None else []
        self._report(watched, rows)
        finished = record is not None and record.status == "finished"
        if watched.points == 0 and finished and not self.warned:
            self.warned = True
            warnings.warn(
                f"--prune {self.pruner}: trial {trial.number} logged no {self.metric!r} while it ran, "
                f"so no trial can be pruned — log it at each step with mlnb.log({{{self.metric!r}: value}}, step=epoch) "
                "in the notebook; trials run to the end.",
                MlnbWarning,
                stacklevel=2,
            )

    def _open(self) -> Store | None:
        from mlnb.runs.store import Store

        if self._store is None:
            try:
                store = Store(readonly=True)
            except MlnbError:  # damaged or unreadable: this pass reads nothing
                return None
            if store._conn is None:  # not created yet (no trial has begun): look again later
                return None
            self._store = store
        return self._store

    def _report(self, watched: _Watched, rows: list[Any]) -> bool:
        """Report the new finite points in step order; True if any was reported."""
        new = False
        for row in sorted(rows, key=lambda r: r.step):
            if row.step <= watched.last_step or not math.isfinite(row.value):
                continue
            watched.trial.report(row.value, row.step)
            watched.last_step = row.step
            watched.points += 1
            new = True
        return new

    def _loop(self) -> None:
        while not self._done.wait(PRUNE_POLL_SECONDS):
            try:
                self.poll()
            except Exception as exc:  # never let the monitor kill the search: trials run on
                warnings.warn(
                    f"--prune {self.pruner}: reading the trials' values failed ({type(exc).__name__}: {exc}); trials run to the end.",
                    MlnbWarning,
                    stacklevel=1,
                )
                return

    def poll(self) -> None:
        """One pass: report new steps of every running trial, stop the ones to prune."""
        from mlnb.pipeline.engine import request_stop

        with self.lock:
            running = list(self.watched.values())
        store = self._open() if running else None
        for watched in running:
            if store is None:
                return
            rows = store.metrics(watched.run_id, [self.metric])
            with self.lock:
                if self.watched.get(watched.trial.number) is not watched or watched.stopping:
                    continue
                if not self._report(watched, rows) or not watched.trial.should_prune():
                    continue
                watched.stopping = True
                value = rows[-1].value if rows else float("nan")
                request_stop(
                    watched.stop_file,
                    "pruned",
                    f"Pruned: the {self.pruner} pruner stopped it at step {watched.last_step} ({self.metric}={value:.6g})",
                )

    def close(self) -> None:
        """Stop reading and remove the stop files."""
        self._done.set()
        self._thread.join(timeout=10)
        if self._store is not None:
            self._store.close()
        shutil.rmtree(self.folder, ignore_errors=True)
