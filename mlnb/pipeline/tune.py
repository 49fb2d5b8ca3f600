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
"""

from __future__ import annotations

import os
import time
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlnb import display
from mlnb.exceptions import (
    MetricNotRecordedError,
    MissingDependencyError,
    PipelineSpecError,
)
from mlnb.pipeline.loading import load_notebook, resolve_kernel, shorten
from mlnb.pipeline.options import check_options
from mlnb.pipeline.run import DEFAULT_START_TIMEOUT, RunTask
from mlnb.pipeline.section import values_of
from mlnb.pipeline.trials import check_direction, check_trial_values, run_trials
from mlnb.runs.records import RunRecord
from mlnb.seed import resolve_seed

if TYPE_CHECKING:
    import optuna


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

    Raises:
        MissingDependencyError: optuna is not installed.
        MetricNotRecordedError: the first finished trial did not record ``metric``.
    """
    try:
        import optuna
    except ImportError:
        raise MissingDependencyError("optuna", "mlnb tune", "optuna") from None
    check_direction(direction)
    check_options(trials=trials, jobs=jobs, timeout=timeout, start_timeout=start_timeout)
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
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)
    remaining = max(0, trials - len(study.get_trials(deepcopy=False, states=states)))
    started = time.perf_counter()
    in_flight: dict[int, Any] = {}
    submitted = 0

    def tasks() -> Iterator[tuple[Hashable, RunTask]]:
        nonlocal submitted
        for _ in range(remaining):
            trial = study.ask()
            params = {**fixed, **{name: dim.suggest(trial) for name, dim in space.items()}}
            in_flight[trial.number] = trial
            submitted += 1
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
                ),
            )

    def tell(number: Hashable, record: RunRecord | None) -> bool:
        trial = in_flight.pop(int(number))  # type: ignore[call-overload]  # executors hand back the int key they were given
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
    return TuneResult(study, metric, str(out), time.perf_counter() - started, submitted)
