"""The Slurm executor: each trial or step is a Slurm job submitted with submitit.

``--backend slurm`` hands every task to ``sbatch`` through submitit's ``AutoExecutor``;
a sweep's trials go as one *array job* (``--array=0-N%jobs``: at most ``jobs`` at once).
The settings map to sbatch's: ``slurm_partition`` (``--partition``), ``slurm_gpus``
(``--gpus-per-node``), ``slurm_time`` in minutes (``--time``), ``slurm_mem`` such as ``8G``
(``--mem``). ``slurm_folder`` is where submitit keeps each job's pickled call, script and
logs — it must be on a file system the nodes share. ``slurm_cluster="local"`` runs the jobs
as local processes with submitit's local executor (for trying it out without a cluster).

Like the Ray executor, a job carries its notebook and working folder
(:mod:`mlnb.pipeline.remote`) and records into a scratch store on its node, so SQLite never
lives on the shared file system; its run lands in the driver's store when it ends, with
the job id and node in ``provenance["node"]``.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections import deque
from collections.abc import Hashable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mlnb.exceptions import InvalidArgumentError, MissingDependencyError
from mlnb.pipeline.executor import lost_record
from mlnb.pipeline.options import check_options
from mlnb.pipeline.remote import Parcel, land, pack, run_parcel
from mlnb.pipeline.run import RunTask
from mlnb.runs.records import RunRecord

#: how often running jobs are looked at
POLL_SECONDS = 0.5
#: ``slurm_cluster`` values: a real Slurm, or submitit's local processes
CLUSTERS = ("slurm", "local")
_UNITS = {"K": 1 / 1024**2, "M": 1 / 1024, "G": 1.0, "T": 1024.0}


def memory_gb(text: str | float | int) -> float:
    """``"8G"``, ``"512M"`` or ``8`` (gigabytes) → gigabytes.

    Raises:
        InvalidArgumentError: anything else.
    """
    raw = str(text).strip().upper().removesuffix("B")
    unit = raw[-1:] if raw[-1:] in _UNITS else "G"
    number = raw[:-1] if raw[-1:] in _UNITS else raw
    try:
        value = float(number) * _UNITS[unit]
    except ValueError:
        value = -1.0
    if not value > 0:
        raise InvalidArgumentError(f"--slurm-mem must be a size like 8G or 512M, got {text!r}.")
    return value


def run_in_job(parcel: Parcel) -> dict[str, Any]:
    """Body of a Slurm job: run the parcel in this node's scratch folder."""
    import submitit

    env = submitit.JobEnvironment()
    return run_parcel(parcel, {"backend": "slurm", "job_id": str(env.job_id)})


class SlurmExecutor:
    """Submits tasks as Slurm jobs (a batch of them as one array job) and lands their runs."""

    #: trial loops may hand over every task at once: the array job limits what runs together
    batches = True

    def __init__(
        self,
        jobs: int = 1,
        address: str | None = None,
        *,
        slurm_partition: str | None = None,
        slurm_gpus: int | None = None,
        slurm_time: int | None = None,
        slurm_mem: str | None = None,
        slurm_folder: str | None = None,
        slurm_cluster: str = "slurm",
        **_: Any,
    ) -> None:
        try:
            import submitit
        except ImportError:
            raise MissingDependencyError("submitit", "--backend slurm", "slurm") from None
        check_options(jobs=jobs, slurm_gpus=slurm_gpus, slurm_time=slurm_time)
        if slurm_cluster not in CLUSTERS:
            raise InvalidArgumentError(
                f"slurm_cluster must be one of {', '.join(CLUSTERS)}, got {slurm_cluster!r}."
            )
        if slurm_cluster == "slurm" and not all(map(shutil.which, ("sbatch", "srun"))):
            raise InvalidArgumentError(
                "--backend slurm needs Slurm's sbatch and srun on PATH, and they are not here — run mlnb on a Slurm login node (or pass --slurm-cluster local to try it with local processes)."
            )
        self._executor = submitit.AutoExecutor(
            folder=Path(slurm_folder or ".mlnb-slurm") / "%j", cluster=slurm_cluster
        )
        self._executor.update_parameters(
            **_parameters(jobs, slurm_partition, slurm_gpus, slurm_time, slurm_mem)
        )
        self._waiting: list[tuple[Hashable, RunTask, Parcel]] = []
        self._cancelled: deque[Hashable] = deque()
        self._running: dict[Any, tuple[Hashable, RunTask]] = {}

    def submit(self, key: Hashable, task: RunTask) -> None:
        """Queue the task; queued tasks go to Slurm together when a result is asked for."""
        self._waiting.append((key, task, pack(task)))

    def _flush(self) -> None:
        """Submit the queued tasks as one array job."""
        waiting, self._waiting = self._waiting, []
        with self._executor.batch():
            submitted = [(self._executor.submit(run_in_job, p), k, t) for k, t, p in waiting]
        for job, key, task in submitted:
            self._running[job] = (key, task)

    def pending(self) -> int:
        """Tasks not returned yet."""
        return len(self._waiting) + len(self._cancelled) + len(self._running)

    def next_result(self) -> tuple[Hashable, RunRecord | None]:
        """The next job to end, landed in this machine's folder and run store."""
        if self._cancelled:
            return self._cancelled.popleft(), None
        if self._waiting:
            self._flush()
        while True:
            for job in list(self._running):
                if job.done():
                    key, task = self._running.pop(job)
                    return key, self._settle(job, task)
            time.sleep(POLL_SECONDS)

    def _settle(self, job: Any, task: RunTask) -> RunRecord:
        try:
            payload = job.result()
        except Exception as exc:  # submitit's FailedJobError / UncompletedJobError
            detail = (str(exc).strip().splitlines() or [""])[-1][:300]
            return lost_record(
                asdict(task),
                "crashed",
                f"SlurmJobFailed: job {job.job_id} ended without a result ({type(exc).__name__}: {detail})",
            )
        return land(payload, task)

    def cancel_pending(self) -> None:
        """Queued tasks come back cancelled; jobs Slurm has not started are cancelled."""
        self._cancelled.extend(key for key, _, _ in self._waiting)
        self._waiting.clear()
        for job in list(self._running):
            with contextlib.suppress(Exception):
                if job.state in ("PENDING", "QUEUED"):
                    job.cancel(check=False)

    def close(self) -> None:
        """Nothing runs in this process; Slurm keeps the job logs in the folder."""


def _parameters(
    jobs: int, partition: str | None, gpus: int | None, minutes: int | None, mem: str | None
) -> dict[str, Any]:
    """submitit's parameters for the settings given (unset ones left to Slurm's defaults)."""
    parameters: dict[str, Any] = {"name": "mlnb", "slurm_array_parallelism": jobs}
    if partition:
        parameters["slurm_partition"] = partition
    if gpus is not None:
        parameters["gpus_per_node"] = gpus
    if minutes is not None:
        parameters["timeout_min"] = minutes
    if mem is not None:
        parameters["mem_gb"] = memory_gb(mem)
    return parameters
