"""One ``mlnb tune --backend ray`` trial as a Ray Tune ``Trainable``, running on a cluster node.

The trial runs its notebook in a thread (:func:`~mlnb.pipeline.remote.run_parcel`, in a
scratch folder of the node with a scratch run store). Each Tune iteration (``step``) is one
intermediate value the notebook logged with ``mlnb.log({metric: value}, step=epoch)``,
read from that store while the kernel runs (between points the last one is repeated
every :data:`HEARTBEAT_SECONDS`, with the same :data:`ITERATION_KEY`, so Tune can stop the
trial at once); the last iteration carries the run's record and ends the trial. When Tune's scheduler (ASHA) stops the trial early, ``cleanup`` asks the
run to stop through its stop file (the engine interrupts the kernel and ends the run
``pruned``, output notebook kept). Either way the run goes back to the driver through an
:class:`Inbox` actor — Tune does not return what a trainable leaves behind.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ray import tune

from mlnb.exceptions import MlnbError
from mlnb.pipeline.backend_ray import node_identity
from mlnb.pipeline.remote import Parcel, run_parcel, scratch_store
from mlnb.pipeline.study import TuneJob, recorded_metric
from mlnb.runs.records import MetricRow, RunRecord, new_run_id

if TYPE_CHECKING:
    from mlnb.runs.store import Store

#: the config key that tells a trial its Optuna trial number
NUMBER_KEY = "mlnb_trial"
#: the result key of a trial's last iteration: its run record as JSON ("" if none came back)
RECORD_KEY = "mlnb_record"
#: the result key schedulers count progress in: the number of logged points seen so far
ITERATION_KEY = "mlnb_iteration"
#: how often a running trial looks for new points
POLL_SECONDS = 0.25
#: how long a ``step`` waits for a new point before it repeats the last one
HEARTBEAT_SECONDS = 0.5
#: how long a stopped run may take to end before the trial gives up on it
STOP_WAIT_SECONDS = 60.0


class Inbox:
    """A Ray actor holding what finished trials send back, until the driver takes it."""

    def __init__(self) -> None:
        self.items: dict[int, dict[str, Any]] = {}

    def put(self, number: int, item: dict[str, Any]) -> None:
        """Keep trial ``number``'s run."""
        self.items[number] = item

    def take(self) -> dict[int, dict[str, Any]]:
        """Everything sent since the last call."""
        items, self.items = self.items, {}
        return items


@dataclass
class TrialPlan:
    """What every trial of one search shares: the job, the packed working folder (its task
    is filled per trial) and the inbox."""

    job: TuneJob
    parcel: Parcel
    inbox: Any


class _Points:
    """The new finite points of one metric of one run, read from a store that may not exist yet."""

    def __init__(self, home: Path, run_id: str, metric: str) -> None:
        self.home = home
        self.run_id = run_id
        self.metric = metric
        self.last_step = -1
        self._store: Store | None = None

    def fresh(self) -> list[MetricRow]:
        from mlnb.runs.store import Store

        if self._store is None:
            try:
                store = Store(self.home, readonly=True)
            except MlnbError:
                return []
            if store._conn is None:  # not created yet: the run has not begun
                return []
            self._store = store
        rows = sorted(self._store.metrics(self.run_id, [self.metric]), key=lambda r: r.step)
        new = [r for r in rows if r.step > self.last_step and math.isfinite(r.value)]
        if new:
            self.last_step = new[-1].step
        return new

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


class NotebookTrial(tune.Trainable):
    """A notebook run as a Tune trial (see the module docstring)."""

    def setup(self, config: dict[str, Any], plan: TrialPlan) -> None:  # type: ignore[override]
        self.plan = plan
        self.number = int(config[NUMBER_KEY])
        params = {k: v for k, v in config.items() if k != NUMBER_KEY}
        self.task = plan.job.task(self.number, params, run_id=new_run_id())
        self.scratch = Path(tempfile.mkdtemp(prefix="mlnb-trial-"))
        self.stop_file = self.scratch / "stop"
        parcel = dataclasses.replace(
            plan.parcel, task=dataclasses.asdict(self.task), stop_file=str(self.stop_file)
        )
        assert self.task.run_id is not None
        self.points = _Points(scratch_store(self.scratch), self.task.run_id, plan.job.metric)
        self.queued: list[MetricRow] = []
        self.last: MetricRow | None = None
        self.seen = 0
        self.outcome: dict[str, Any] = {}
        self.delivered = False
        self.thread = threading.Thread(target=self._run, args=(parcel,), daemon=True)
        self.thread.start()

    def _run(self, parcel: Parcel) -> None:
        try:
            self.outcome["payload"] = run_parcel(parcel, node_identity(), scratch=self.scratch)
        except Exception as exc:  # the run could not start: the driver records it crashed
            self.outcome["error"] = f"{type(exc).__name__}: {exc}"

    def step(self) -> dict[str, Any]:
        """The next logged point; the last one again after :data:`HEARTBEAT_SECONDS` without
        a new one (so a stop from the scheduler never waits behind a long epoch); once the
        run ended, its outcome."""
        metric = self.plan.job.metric
        waited = 0.0
        while True:
            if not self.queued:
                self.queued = self.points.fresh()
            if self.queued:
                self.last = self.queued.pop(0)
                self.seen += 1
                return {metric: self.last.value, ITERATION_KEY: self.seen}
            if not self.thread.is_alive():
                return self._final_result()
            if self.last is not None and waited >= HEARTBEAT_SECONDS:
                return {metric: self.last.value, ITERATION_KEY: self.seen}
            self.thread.join(POLL_SECONDS)
            waited += POLL_SECONDS

    def _final_result(self) -> dict[str, Any]:
        self._deliver()
        payload = self.outcome.get("payload")
        record = RunRecord.from_dict(payload["run"]["record"]) if payload else None
        value = recorded_metric(record, self.plan.job.metric)
        return {
            self.plan.job.metric: value if value is not None else math.nan,
            RECORD_KEY: json.dumps(record.to_dict(), default=str) if record else "",
            ITERATION_KEY: self.seen,
            "done": True,
        }

    def _deliver(self) -> None:
        if self.delivered:
            return
        self.delivered = True
        item = {"task": dataclasses.asdict(self.task), **self.outcome}
        import ray

        ray.get(self.plan.inbox.put.remote(self.number, item))

    def save_checkpoint(self, checkpoint_dir: str) -> None:
        """Nothing to save: a notebook run cannot resume halfway, so a trial never pauses."""
        return None

    def load_checkpoint(self, checkpoint: Any) -> None:
        """Nothing to restore (see :meth:`save_checkpoint`)."""

    def cleanup(self) -> None:
        """Stopped before the run ended (ASHA): stop the kernel, keep the notebook, send it back."""
        from mlnb.pipeline.engine import request_stop

        if self.thread.is_alive():
            step = self.points.last_step
            pruner = self.plan.job.prune
            if pruner:
                reason = f"Pruned: Ray Tune's {pruner} scheduler stopped it at step {step}"
            else:
                reason = "Stopped: Ray Tune ended the trial before its notebook finished"
            request_stop(self.stop_file, "pruned" if pruner else "killed", reason)
            self.thread.join(STOP_WAIT_SECONDS)
        self.points.close()
        self._deliver()
        shutil.rmtree(self.scratch, ignore_errors=True)
