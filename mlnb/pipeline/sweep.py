"""Run one notebook over a grid (or a random sample) of parameters, in parallel processes.

``sweep("train.ipynb", {"lr": [0.1, 0.01], "bs": [32, 64]}, jobs=2)`` runs the four
combinations, each into its own output notebook, on an executor from
:mod:`mlnb.pipeline.backends`. Every value is checked against the notebook's
``parameters`` cell before anything starts; a failed trial does not stop the
others unless ``fail_fast``. The result is a table of params → recorded values and
the best trial by a metric.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlnb import display
from mlnb.pipeline.loading import load_notebook, resolve_kernel
from mlnb.pipeline.options import check_options
from mlnb.pipeline.run import DEFAULT_START_TIMEOUT, RunTask
from mlnb.pipeline.section import section_of, values_of
from mlnb.pipeline.sweep_space import Range, grid, random_samples
from mlnb.pipeline.trials import check_direction, check_trial_values, run_trials
from mlnb.runs.records import RunRecord
from mlnb.seed import resolve_seed

MINIMIZE_HINTS = ("loss", "error", "err", "mse", "mae", "rmse", "time", "latency")


def guess_direction(metric: str) -> str:
    """``"min"`` for names that sound like a loss or an error, else ``"max"``."""
    return "min" if any(hint in metric.lower() for hint in MINIMIZE_HINTS) else "max"


@dataclass
class Trial:
    """One combination of parameters and how its run went (None: not run)."""

    index: int
    params: dict[str, Any]
    record: RunRecord | None = None

    @property
    def status(self) -> str:
        """The run's status, or ``skipped`` when it never started."""
        return self.record.status if self.record else "skipped"

    @property
    def values(self) -> dict[str, Any]:
        """What the trial's notebook recorded (empty when it never ran)."""
        return values_of(self.record) if self.record else {}

    @property
    def output(self) -> str | None:
        """The trial's output notebook (None when it never ran)."""
        return section_of(self.record).output if self.record else None


@dataclass
class SweepResult:
    """All trials, the metric the best one was chosen by, and the best trial."""

    trials: list[Trial]
    metric: str | None = None
    direction: str = "max"
    output_dir: str = ""
    seconds: float = 0.0
    best: Trial | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.choose_best()

    def metric_names(self) -> list[str]:
        """Every recorded value name, in first-seen order."""
        names: dict[str, None] = {}
        for trial in self.trials:
            if trial.record:
                names.update(dict.fromkeys(trial.values))
        return list(names)

    def choose_best(self) -> None:
        """Pick the metric (the first numeric recorded value if none was named) and the best trial."""
        if self.metric is None:
            self.metric = next((n for n in self.metric_names() if self._numeric(n)), None)
            if self.metric is not None:
                self.direction = guess_direction(self.metric)
        metric = self.metric
        scored = [
            (number, t)
            for t in self.trials
            if metric is not None
            and t.status == "finished"
            and (number := _number(t.values.get(metric))) is not None
        ]
        if not scored:
            self.best = None
            return
        pick = max if self.direction == "max" else min
        self.best = pick(scored, key=lambda pair: pair[0])[1]

    def _numeric(self, name: str) -> bool:
        return any(_number(t.values.get(name)) is not None for t in self.trials)

    def rows(self) -> tuple[list[str], list[list[Any]]]:
        """Headers and rows: trial, status, each parameter, each recorded value, seconds."""
        params = list(dict.fromkeys(k for t in self.trials for k in t.params))
        metrics = [m for m in self.metric_names() if m not in params]
        headers = ["trial", "status", *params, *metrics, "seconds"]
        rows = []
        for t in self.trials:
            values = t.values
            mark = " *" if t is self.best else ""
            duration = t.record.duration if t.record else None
            rows.append(
                [f"{t.index}{mark}", t.status]
                + [t.params.get(p, "") for p in params]
                + [values.get(m, "—") for m in metrics]
                + [round(duration, 2) if duration is not None else "—"]
            )
        return headers, rows

    def text(self) -> str:
        """The table, then a line naming the best trial."""
        headers, rows = self.rows()
        return display.text_table(headers, rows) + "\n" + self.best_line()

    def html(self) -> str:
        """The same as an escaped HTML table."""
        headers, rows = self.rows()
        return display.html_table(headers, rows, caption=self.best_line())

    def best_line(self) -> str:
        """``best: trial 3 (acc=0.93, max) lr=0.1 bs=32 -> out/...``."""
        failed = sum(t.status not in ("finished", "skipped") for t in self.trials)
        tail = f"; {failed} of {len(self.trials)} trials did not finish" if failed else ""
        if self.best is None or self.best.record is None or self.metric is None:
            return f"best: none (no finished trial recorded a number{f' for {self.metric}' if self.metric else ''}){tail}"
        params = " ".join(f"{k}={display.format_value(v)}" for k, v in self.best.params.items())
        value = display.format_value(self.best.values[self.metric])
        return f"best: trial {self.best.index} ({self.metric}={value}, {self.direction}) {params} -> {self.best.output}{tail}"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def trial_tasks(
    notebook: Path,
    combos: Sequence[dict[str, Any]],
    output_dir: Path,
    seed: int,
    jobs: int,
    **options: Any,
) -> list[RunTask]:
    """One task per combination, each to ``<output_dir>/<stem>-trial-NNN.ipynb``."""
    tasks = []
    for index, params in enumerate(combos):
        tasks.append(
            RunTask(
                notebook=str(notebook),
                params=params,
                output=str(output_dir / f"{notebook.stem}-trial-{index:03d}.ipynb"),
                seed=seed,
                tags=["sweep", f"trial-{index}"],
                prewarm_next=index < len(combos) - jobs,  # no spare nobody will use
                **options,
            )
        )
    return tasks


def _check_notebook(
    path: Path,
    space: Mapping[str, Sequence[Any] | Range],
    fixed: dict[str, Any],
    kernel: str | None,
) -> None:
    """Refuse, before any trial starts, a missing kernel and values the notebook cannot take."""
    nb = load_notebook(path)
    resolve_kernel(nb, kernel)  # a missing kernel is refused now, not by every trial
    check_trial_values(
        nb,
        path,
        fixed,
        (
            (name, value)
            for name, values in space.items()
            for value in (values if not isinstance(values, Range) else (values.low, values.high))
        ),
    )


def _combinations(
    space: Mapping[str, Sequence[Any] | Range],
    fixed: dict[str, Any],
    random: int | None,
    seed: int,
) -> list[dict[str, Any]]:
    """Every trial's parameters: swept names first (they lead the table and the best line),
    then the fixed ones."""
    combos = random_samples(space, random, seed) if random is not None else grid(space)
    return [{**combo, **{k: v for k, v in fixed.items() if k not in combo}} for combo in combos]


def _output_folder(path: Path, output_dir: str | os.PathLike[str] | None) -> Path:
    """``output_dir``, else ``sweeps/<stem>-<time>`` beside the notebook; created."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = (
        Path(output_dir)
        if output_dir
        else path.resolve().parent / "sweeps" / f"{path.stem}-{stamp}"
    )
    out.mkdir(parents=True, exist_ok=True)
    return out


def sweep(
    notebook: str | os.PathLike[str],
    space: Mapping[str, Sequence[Any] | Range],
    *,
    random: int | None = None,
    jobs: int = 1,
    seed: int | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    fixed: Mapping[str, Any] | None = None,
    kernel: str | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    start_timeout: int = DEFAULT_START_TIMEOUT,
    fail_fast: bool = False,
    backend: str = "local",
    address: str | None = None,
    backend_options: Mapping[str, Any] | None = None,
    metric: str | None = None,
    direction: str | None = None,
    progress: bool = True,
    warm: bool = True,
) -> SweepResult:
    """Run a notebook for every combination of parameters (or ``random`` samples).

    Args:
        notebook: the notebook (it needs a ``parameters`` cell).
        space: name → list of values (or a :class:`Range` for ``random``).
        random: draw this many combinations instead of running the whole grid.
        jobs: trials running at once (worker processes, or Ray tasks).
        seed: pinned in every trial (and seeds the random sampling); default drawn.
        output_dir: folder for the trial notebooks (default ``sweeps/<stem>-<time>``).
        fixed: parameters every trial gets.
        kernel, cwd, timeout, start_timeout: as for :func:`mlnb.pipeline.run.run`.
        fail_fast: after the first trial that does not finish, start no more.
        backend: ``"local"`` (processes), ``"ray"`` or ``"slurm"``; ``address`` for a Ray cluster.
        backend_options: the backend's own settings (``ray_resources``, ``slurm_partition``,
            ``slurm_gpus``, ``slurm_time``, ``slurm_mem``, ``slurm_folder``).
        metric: recorded value that picks the best trial (default: the first number).
        direction: ``"max"`` or ``"min"`` (default: ``min`` for loss/error names).
        progress: show a tqdm progress bar on stderr.
        warm: fork each trial's kernel from a process that has already imported ipykernel
            and the notebook's libraries (local backend; still one fresh process per
            trial — :mod:`mlnb.pipeline.kernel_pool`). False starts each kernel cold.

    Returns:
        A :class:`SweepResult`; its ``text()`` is the table of params → recorded values.

    Raises:
        NoParametersCellError, UnknownParameterError, ParameterTypeError: before any trial.
    """
    check_options(
        random=random,
        jobs=jobs,
        timeout=timeout,
        start_timeout=start_timeout,
        **dict(backend_options or {}),
    )
    path = Path(notebook)
    fixed = dict(fixed or {})
    _check_notebook(path, space, fixed, kernel)
    check_direction(direction, optional=True)
    seed_value, _ = resolve_seed(seed)
    combos = _combinations(space, fixed, random, seed_value)
    out = _output_folder(path, output_dir)
    tasks = trial_tasks(
        path,
        combos,
        out,
        seed_value,
        jobs,
        kernel=kernel,
        cwd=str(cwd) if cwd else None,
        timeout=timeout,
        start_timeout=start_timeout,
        warm=warm and backend == "local",
    )
    trials = [Trial(i, combo) for i, combo in enumerate(combos)]
    started = time.perf_counter()

    def keep(index: Hashable, record: RunRecord | None) -> bool:
        trials[int(index)].record = record  # type: ignore[call-overload]  # executors hand back the int key they were given
        return not (fail_fast and record is not None and record.status != "finished")

    run_trials(
        iter(enumerate(tasks)),
        keep,
        total=len(tasks),
        jobs=jobs,
        backend=backend,
        address=address,
        label=f"sweep {path.name}",
        progress=progress,
        backend_options=backend_options,
        eager=True,
    )
    return SweepResult(
        trials,
        metric,
        direction or (guess_direction(metric) if metric else "max"),
        str(out),
        time.perf_counter() - started,
    )
