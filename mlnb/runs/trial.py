"""Logging from a notebook that mlnb's pipeline executes, into the run the pipeline recorded.

A notebook run by ``mlnb run``, a sweep or ``mlnb tune`` is already a run in the store
(begun and ended from outside by :mod:`mlnb.runs.external`). Before the first cell, the
pipeline's engine sets two variables in the kernel: :data:`ENV_RUN_ID` (that run's id) and
:data:`ENV_RUN_HOME` (its store folder, absolute). Then, inside the notebook::

    mlnb.log({"val/acc": acc}, step=epoch)      # no run started: logs to the pipeline's run
    run = mlnb.runs.current_trial()             # the same, as an object: run.log(...)

The points are written at once (one small SQLite write per call — meant for a value per
epoch, not per batch), so a tuner reading ``Store.metrics(run_id, ...)`` sees them while
the kernel runs; that is how ``mlnb tune --prune`` gets its intermediate values. The run
object never changes the run's status, summary or end: the pipeline owns those. A run the
notebook starts itself with ``mlnb.start`` stays the one ``mlnb.log`` writes to.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from mlnb.exceptions import MetricValueError
from mlnb.runs import points
from mlnb.runs import values as checks
from mlnb.runs.store import Store

#: the id of the pipeline run this kernel executes (set by the engine)
ENV_RUN_ID = "MLNB_RUN_ID"
#: the store folder of that run (absolute; the kernel's own MLNB_HOME is left alone)
ENV_RUN_HOME = "MLNB_RUN_HOME"

_attached: dict[tuple[str, str], AttachedRun] = {}


class AttachedRun:
    """Writes metric points to a run another process recorded and will end.

    Attributes:
        id: the run's id.
        store: the store it writes to.
    """

    def __init__(self, store: Store, run_id: str) -> None:
        self.store = store
        self.id = run_id
        self._next_step = 0

    def log(self, data: Mapping[str, Any], step: int | None = None) -> None:
        """Write ``{name: number}`` at ``step`` now (default: the step after the last).

        Raises:
            MetricValueError: a name, value or step that :meth:`mlnb.runs.Run.log` refuses too.
        """
        if not isinstance(data, Mapping):
            raise MetricValueError(
                f"log() takes a dict of metric name → number, got {type(data).__name__} — write run.log({{'loss': value}})."
            )
        step = self._next_step if step is None else checks.check_step(step)
        values = {}
        for key, value in data.items():
            if not isinstance(key, str) or not key.strip() or "\n" in key:
                raise MetricValueError(f"a metric name must be a non-empty string, got {key!r}.")
            values[key] = checks.to_float(key, value)
        self._next_step = step + 1
        self.store.append(
            self.id, points.pack([(step, values, time.time(), None)]), heartbeat=time.time()
        )

    def __repr__(self) -> str:
        return f"<mlnb AttachedRun id={self.id}>"


def current_trial() -> AttachedRun | None:
    """The pipeline run this kernel executes, to log to; None outside a pipeline kernel."""
    run_id = os.environ.get(ENV_RUN_ID)
    home = os.environ.get(ENV_RUN_HOME)
    if not run_id or not home:
        return None
    found = _attached.get((home, run_id))
    if found is None:
        found = _attached[(home, run_id)] = AttachedRun(Store(home), run_id)
    return found


def exposure_code(run_id: str, home: str) -> str:
    """The Python the engine runs silently in the kernel to name the run it executes."""
    return (
        "import os as __mlnb_os\n"
        f"__mlnb_os.environ[{ENV_RUN_ID!r}] = {run_id!r}\n"
        f"__mlnb_os.environ[{ENV_RUN_HOME!r}] = {home!r}\n"
        "del __mlnb_os\n"
    )
