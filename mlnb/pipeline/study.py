"""The Optuna study behind ``mlnb tune``, shared by the local tuner and the Ray Tune one.

Both keep the study in SQLite (so a second ``tune`` continues it), build each trial's
:class:`~mlnb.pipeline.run.RunTask` alike (:func:`trial_task`) and tell the study how a
trial's run ended alike (:func:`tell_record`): a finished run that recorded the metric
completes the trial, a pruned one is ``PRUNED``, anything else ``FAIL`` — and a finished run
that never recorded the metric stops the search with one sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlnb.exceptions import MetricNotRecordedError, PipelineSpecError
from mlnb.pipeline.loading import shorten
from mlnb.pipeline.run import RunTask
from mlnb.pipeline.section import values_of
from mlnb.runs.records import RunRecord

if TYPE_CHECKING:
    import optuna

    from mlnb.pipeline.tune_space import Dimension

#: trial states that count towards ``--trials``
DONE_STATES = ("COMPLETE", "FAIL", "PRUNED")
#: samplers ``--sampler`` takes: Optuna's TPE (learns from finished trials) and random
#: search (each trial's point depends only on the seed and its number, not on earlier results)
SAMPLERS = ("tpe", "random")


@dataclass
class TuneJob:
    """What one ``tune`` call runs: the notebook, where trials go, and how they run."""

    notebook: Path
    out: Path
    space: Mapping[str, Dimension]
    metric: str
    fixed: dict[str, Any]
    seed: int
    remaining: int
    jobs: int = 1
    kernel: str | None = None
    timeout: float | None = None
    start_timeout: int = 120
    prune: str | None = None
    prune_startup: int = 5
    prune_warmup: int = 0
    backend: str = "local"
    address: str | None = None
    backend_options: dict[str, Any] = field(default_factory=dict)
    progress: bool = True
    warm: bool = True

    def task(self, number: int, params: dict[str, Any], **extra: Any) -> RunTask:
        """Trial ``number``'s run with ``params`` (the fixed ones under them)."""
        return trial_task(
            self.notebook,
            self.out,
            number,
            {**self.fixed, **params},
            seed=self.seed,
            kernel=self.kernel,
            timeout=self.timeout,
            start_timeout=self.start_timeout,
            warm=self.warm and self.backend == "local",
            **extra,
        )


def make_pruner(prune: str | None, startup: int, warmup: int) -> optuna.pruners.BasePruner:
    """Optuna's pruner for ``--prune``: ``median`` is its ``MedianPruner`` (``startup`` trials
    first, ``warmup`` steps per trial), ``asha`` its ``SuccessiveHalvingPruner`` (asynchronous
    successive halving, rungs at steps ``warmup``·3^k, the best third of each rung goes on)."""
    import optuna

    if prune == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=startup, n_warmup_steps=warmup)
    if prune == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=max(1, warmup), reduction_factor=3
        )
    return optuna.pruners.NopPruner()


def make_sampler(sampler: str, seed: int) -> optuna.samplers.BaseSampler:
    """Optuna's sampler for ``--sampler``, seeded with ``seed``: ``tpe`` is its
    ``TPESampler``, ``random`` its ``RandomSampler``."""
    import optuna

    if sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def open_study(
    name: str,
    storage: str,
    direction: str,
    seed: int,
    pruner: optuna.pruners.BasePruner | None,
    sampler: str = "tpe",
) -> optuna.Study:
    """Create or load the study (``sampler`` seeded with ``seed``) with ``pruner`` (None: none).

    Raises:
        PipelineSpecError: the storage cannot be opened, or holds the study with another direction.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        return optuna.create_study(
            study_name=name,
            storage=storage,
            direction="maximize" if direction == "max" else "minimize",
            sampler=make_sampler(sampler, seed),
            pruner=pruner or optuna.pruners.NopPruner(),
            load_if_exists=True,
        )
    except ValueError as exc:  # e.g. an existing study with the other direction
        raise PipelineSpecError(
            f"cannot use study {name!r} in {storage}: {shorten(str(exc))}."
        ) from None
    except Exception as exc:  # SQLAlchemy: an unknown scheme, a missing driver, no such folder
        raise PipelineSpecError(
            f"--storage {storage} cannot be opened as an Optuna storage ({type(exc).__name__}: {shorten(str(exc), 120)}) — use a URL like sqlite:///tune.db."
        ) from None


def trials_left(study: optuna.Study, wanted: int) -> int:
    """How many more trials the study needs to hold ``wanted`` done ones."""
    done = [t for t in study.get_trials(deepcopy=False) if t.state.name in DONE_STATES]
    return max(0, wanted - len(done))


def trial_task(
    notebook: Path,
    out: Path,
    number: int,
    params: dict[str, Any],
    **options: Any,
) -> RunTask:
    """Trial ``number``'s run: into ``<out>/<stem>-trial-NNN.ipynb``, tagged ``tune``."""
    return RunTask(
        notebook=str(notebook),
        params=params,
        output=str(out / f"{notebook.stem}-trial-{number:03d}.ipynb"),
        tags=["tune", f"trial-{number}"],
        **options,
    )


def recorded_metric(record: RunRecord | None, metric: str) -> float | None:
    """The number a finished run recorded as ``metric`` (None otherwise)."""
    if record is None or record.status != "finished":
        return None
    value = values_of(record).get(metric)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def tell_record(study: optuna.Study, trial: Any, record: RunRecord | None, metric: str) -> str:
    """Tell ``study`` how ``trial``'s run ended; returns the state told.

    Raises:
        MetricNotRecordedError: the run finished without recording ``metric`` as a number.
    """
    import optuna

    states = optuna.trial.TrialState
    if record is not None and record.status == "pruned":
        study.tell(trial, state=states.PRUNED)
        return "PRUNED"
    value = recorded_metric(record, metric)
    if value is not None:
        study.tell(trial, value)
        return "COMPLETE"
    study.tell(trial, state=states.FAIL)
    if record is not None and record.status == "finished":
        recorded = ", ".join(values_of(record)) or "nothing"
        raise MetricNotRecordedError(
            f"trial {trial.number} finished but did not record a number named {metric!r} (it recorded: {recorded}) — call mlnb.record({metric!r}, value) in the notebook or pick --metric from those."
        )
    return "FAIL"
