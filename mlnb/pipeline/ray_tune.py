"""``mlnb tune --backend ray``: the search runs on Ray Tune.

``ray.tune.Tuner`` drives the trials (:class:`~mlnb.pipeline.ray_trial.NotebookTrial`, one
CPU each plus ``ray_resources``), at most ``jobs`` at once. Its search algorithm is
:class:`StudySearcher`, a Ray Tune ``Searcher`` over the same SQLite Optuna study (TPE or
random, ``sampler``) the local tuner uses, so both continue one study. Its scheduler is Ray Tune's
``ASHAScheduler`` for ``prune="asha"``, ``MedianStoppingRule`` for ``"median"``, else FIFO;
schedulers see one iteration per value the notebook logged with ``mlnb.log``. Each trial's
run comes back through an inbox actor and lands in this machine's folder and run store
(:func:`~mlnb.pipeline.remote.land`) with the node it ran on.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from typing import Any

from mlnb.exceptions import MetricNotRecordedError, MissingDependencyError
from mlnb.pipeline.backend_ray import connect, parse_resources
from mlnb.pipeline.executor import lost_record
from mlnb.pipeline.prune_monitor import warn_never_logged
from mlnb.pipeline.remote import land, pack
from mlnb.pipeline.run import RunTask
from mlnb.pipeline.study import TuneJob, tell_record
from mlnb.runs.records import RunRecord

#: how long, after Tune returns, the driver waits for trials' runs still on their way
LANDING_SECONDS = 120.0
#: how long to wait for a run whose Tune trial errored (its actor may have died)
ERRORED_SECONDS = 5.0
#: ASHA's longest trial in logged values; far above any notebook's epochs
ASHA_MAX_T = 100_000


def _searcher_class() -> Any:
    from ray.tune.search import Searcher

    from mlnb.pipeline.ray_trial import NUMBER_KEY, RECORD_KEY

    class StudySearcher(Searcher):
        """Ray Tune's search algorithm over an Optuna study: ``suggest`` asks the study for a
        trial's point, ``on_trial_complete`` tells it how the trial's run ended."""

        def __init__(self, study: Any, job: TuneJob) -> None:
            super().__init__(metric=job.metric, mode=_mode(study))
            self.study = study
            self.job = job
            self.asked: dict[str, Any] = {}
            self.params: dict[int, dict[str, Any]] = {}
            self.states: Counter[str] = Counter()
            self.error: MetricNotRecordedError | None = None
            self.errored: set[int] = set()

        def suggest(self, trial_id: str) -> dict[str, Any] | None:
            if self.error is not None or len(self.asked) >= self.job.remaining:
                return Searcher.FINISHED  # type: ignore[return-value]  # Ray annotates dict, returns this str
            trial = self.study.ask()
            params = {name: dim.suggest(trial) for name, dim in self.job.space.items()}
            self.asked[trial_id] = trial
            self.params[trial.number] = params
            return {**params, NUMBER_KEY: trial.number}

        def on_trial_complete(
            self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
        ) -> None:
            trial = self.asked[trial_id]
            if error:
                self.errored.add(trial.number)
            raw = (result or {}).get(RECORD_KEY)
            if raw is None:  # stopped before its last iteration: the scheduler pruned it
                state = "PRUNED" if self.job.prune and not error else "FAIL"
                self.study.tell(trial, state=_state(state))
            elif raw == "":
                state = "FAIL"
                self.study.tell(trial, state=_state(state))
            else:
                record = RunRecord.from_dict(json.loads(raw))
                try:
                    state = tell_record(self.study, trial, record, self.job.metric)
                except MetricNotRecordedError as exc:  # raised once Tune has stopped
                    self.error, state = exc, "FAIL"
            self.states[state] += 1

    return StudySearcher


def _state(name: str) -> Any:
    import optuna

    return getattr(optuna.trial.TrialState, name)


def _mode(study: Any) -> str:
    return "max" if study.direction.name == "MAXIMIZE" else "min"


def _scheduler(job: TuneJob, mode: str) -> Any:
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, MedianStoppingRule

    from mlnb.pipeline.ray_trial import ITERATION_KEY

    if job.prune == "asha":
        return ASHAScheduler(
            metric=job.metric,
            mode=mode,
            time_attr=ITERATION_KEY,
            max_t=ASHA_MAX_T,
            grace_period=max(1, job.prune_warmup),
        )
    if job.prune == "median":
        return MedianStoppingRule(
            metric=job.metric,
            mode=mode,
            time_attr=ITERATION_KEY,
            grace_period=max(1, job.prune_warmup),
            min_samples_required=max(1, job.prune_startup),
        )
    return FIFOScheduler()


def tune_on_ray(study: Any, job: TuneJob) -> tuple[int, int]:
    """Run ``job.remaining`` trials of ``study`` on Ray Tune; returns (ran, pruned).

    Raises:
        MissingDependencyError: ray (with its ``tune`` extra) is not installed.
        BackendUnreachableError: ``job.address`` does not answer.
        MetricNotRecordedError: a finished trial did not record the metric.
    """
    try:
        from ray import tune
    except ImportError:
        raise MissingDependencyError("ray[tune]", "mlnb tune --backend ray", "ray") from None
    from mlnb.pipeline.ray_trial import Inbox, NotebookTrial, TrialPlan

    resources = {"cpu": 1, **parse_resources(job.backend_options.get("ray_resources"))}
    parcel = pack(job.task(0, {}))  # the working folder, packed once for every trial
    ray, owns_ray = connect(job.address, job.jobs)
    inbox = ray.remote(num_cpus=0)(Inbox).remote()
    searcher = _searcher_class()(study, job)
    plan = TrialPlan(job, parcel, inbox)
    storage = tempfile.mkdtemp(prefix="mlnb-ray-tune-")
    # mlnb keeps its own records: Tune's classic status table (with progress), no Tune loggers
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    tuner = tune.Tuner(
        tune.with_resources(tune.with_parameters(NotebookTrial, plan=plan), resources),
        tune_config=tune.TuneConfig(
            search_alg=searcher,
            scheduler=_scheduler(job, _mode(study)),
            num_samples=job.remaining,
            max_concurrent_trials=job.jobs,
            reuse_actors=False,
        ),
        run_config=tune.RunConfig(
            storage_path=storage, name="mlnb", verbose=1 if job.progress else 0
        ),
    )
    try:
        tuner.fit()
        _land_all(ray, inbox, searcher, job)
    finally:
        shutil.rmtree(storage, ignore_errors=True)
        ray.kill(inbox)
        if owns_ray:
            ray.shutdown()
    if searcher.error is not None:
        raise searcher.error
    return len(searcher.asked), searcher.states["PRUNED"]


def _land_all(ray: Any, inbox: Any, searcher: Any, job: TuneJob) -> None:
    """Land every asked trial's run as it arrives; a run that never arrives is recorded lost."""
    waiting = dict(searcher.params)
    started = time.monotonic()
    warned = False
    while waiting and time.monotonic() - started < _patience(searcher, waiting):
        for number, item in ray.get(inbox.take.remote()).items():
            waiting.pop(number, None)
            record = _land_one(item)
            if job.prune and not warned and _never_logged(record, job.metric):
                warned = True
                warn_never_logged(job.prune, job.metric, number)
        if waiting:
            time.sleep(0.5)
    for number, params in waiting.items():
        task = job.task(number, params)
        lost_record(
            dataclasses.asdict(task),
            "crashed",
            "RayTrialLost: the Ray Tune trial ended without sending its run back",
        )


def _patience(searcher: Any, waiting: dict[int, Any]) -> float:
    """How long to wait for the runs still on their way: a trial whose actor failed in Tune
    may never send one, so only :data:`ERRORED_SECONDS` when every one left failed there."""
    if set(waiting) <= searcher.errored:
        return ERRORED_SECONDS
    return LANDING_SECONDS


def _land_one(item: dict[str, Any]) -> RunRecord:
    task = RunTask(**item["task"])
    if item.get("payload") is None:
        return lost_record(item["task"], "crashed", item.get("error") or "the trial sent no run")
    return land(item["payload"], task)


def _never_logged(record: RunRecord, metric: str) -> bool:
    """A finished run that logged no point of ``metric`` (pruning could never see it)."""
    from mlnb.runs.session import open_store

    return record.status == "finished" and not open_store().metrics(record.id, [metric])
