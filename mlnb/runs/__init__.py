"""Run logging inside notebooks: local-first tracking with provenance, offline, no account.

``run = mlnb.runs.start("baseline", config={...})`` starts a run; ``run.log({...})``
buffers points that a background thread writes to a SQLite store under
``MLNB_HOME`` (default ``./.mlnb``). ``table()``, ``compare()`` and
``parallel_coordinates()`` compare runs; ``importance()`` says which
parameter matters most; ``export()`` hands them to MLflow or
TensorBoard. Heavy libraries (pandas, matplotlib, torch, ipywidgets, mlflow) are
imported only by the functions that use them.
"""

from __future__ import annotations

from mlnb import lazy as _lazy
from mlnb.runs.records import STATUSES, ArtifactRow, CellRow, MetricRow, RunRecord
from mlnb.runs.run import Run
from mlnb.runs.session import active_run, finish, live_runs, log, open_store, start
from mlnb.runs.store import Store, default_home

# public name -> "module:attribute", imported on first use
_LAZY = {
    "table": "mlnb.runs.comparison:table",
    "metrics_frame": "mlnb.runs.comparison:metrics_frame",
    "compare": "mlnb.runs.comparison:compare",
    "parallel_coordinates": "mlnb.runs.comparison:parallel_coordinates",
    "LivePlot": "mlnb.runs.live:LivePlot",
    "progress": "mlnb.runs.progress_bar:progress",
    "export": "mlnb.runs.exporting:export",
    "Checkpoint": "mlnb.runs.checkpoints:Checkpoint",
    "importance": "mlnb.runs.param_importance:importance",
    "current_trial": "mlnb.runs.trial:current_trial",
}

__all__ = [
    "STATUSES",
    "ArtifactRow",
    "CellRow",
    "MetricRow",
    "Run",
    "RunRecord",
    "Store",
    "active_run",
    "default_home",
    "finish",
    "live_runs",
    "log",
    "start",
    "open_store",
    *_LAZY,
]

__getattr__, __dir__ = _lazy.attach(__name__, _LAZY, globals())
