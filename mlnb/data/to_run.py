"""Log a data check (profile, validation, drift) to a run of :mod:`mlnb.runs`.

The flat numbers of ``result.to_metrics()`` become run metrics (``drift/age``,
``validation/anomalies``, ...) so they sit beside the training curves and compare
across runs; the full result is kept as a JSON artifact (``data/drift.json``).
"""

from __future__ import annotations

import json
from typing import Any


def target_run(run: Any = None) -> Any:
    """``run``, else the active run; raises ``NoActiveRunError`` naming how to start one."""
    if run is not None:
        return run
    from mlnb.runs.session import require_active

    return require_active("log the data check")


def log_to_run(result: Any, run: Any = None, *, step: int | None = None) -> dict[str, float]:
    """Log ``result``'s metrics to ``run`` (default: the active run) and keep it as JSON.

    Args:
        result: a ``DataProfile``, ``ValidationReport`` or ``DriftReport``.
        run: the run to log to; the active run when None.
        step: the step to log at (the run's next step when None).

    Returns:
        The metrics that were logged.

    Raises:
        NoActiveRunError: no run is given and none is active.
    """
    target = target_run(run)
    metrics = result.to_metrics()
    target.log(metrics, step=step)
    kind = next(iter(metrics), "data/").split("/", 1)[0] or "data"
    payload = json.dumps(result.to_dict(), indent=2, default=str, allow_nan=True)
    target.log_text(f"data/{kind}.json", payload, meta={"metrics": len(metrics)})
    return metrics
