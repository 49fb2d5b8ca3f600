"""Checkpoints of a run: ``torch.save`` with metadata, keeping only the best ``k``.

Each checkpoint is a file in the run's artifact folder plus an artifact record of
kind ``checkpoint`` whose metadata holds the metric, its value, the mode, the step
and the time. A NaN value always ranks last (it is never "best").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlnb.exceptions import InvalidArgumentError, MissingDependencyError
from mlnb.nvml import quiet_torch_import
from mlnb.runs.records import ArtifactRow

MODES = ("min", "max")


@dataclass(frozen=True)
class Checkpoint:
    """A saved checkpoint: where it is and how good it was."""

    path: Path
    metric: str
    value: float
    mode: str
    step: int | None

    def load(self, **torch_load_kwargs: Any) -> Any:
        """``torch.load`` the checkpoint (``weights_only=False`` unless you pass it)."""
        torch = _torch()
        torch_load_kwargs.setdefault("weights_only", False)
        return torch.load(self.path, **torch_load_kwargs)


def _torch() -> Any:
    try:
        torch = quiet_torch_import()
    except ImportError:
        raise MissingDependencyError("torch", "saving checkpoints", "torch") from None
    return torch


def _rank(value: float, mode: str) -> float:
    """Smaller is better; NaN is worst."""
    if math.isnan(value):
        return math.inf
    return value if mode == "min" else -value


def _as_checkpoint(row: ArtifactRow) -> Checkpoint:
    meta = row.meta
    return Checkpoint(
        Path(row.path), meta["metric"], float(meta["value"]), meta["mode"], meta.get("step")
    )


def checkpoints(run: Any) -> list[Checkpoint]:
    """The run's kept checkpoints, best first."""
    found = [_as_checkpoint(row) for row in run.store.artifacts(run.id, kind="checkpoint")]
    return sorted(found, key=lambda c: _rank(c.value, c.mode))


def save_checkpoint(
    run: Any,
    obj: Any,
    *,
    metric: str,
    value: float | None = None,
    mode: str = "min",
    keep: int = 3,
    step: int | None = None,
) -> Checkpoint | None:
    """Save ``obj`` if it is among the best ``keep`` by ``metric``; delete ones that drop out.

    Args:
        run: the run.
        obj: anything ``torch.save`` takes (a ``state_dict``, a model, a dict).
        metric: the metric that ranks checkpoints.
        value: its value for this checkpoint (default: the metric's latest logged value).
        mode: ``"min"`` (lower is better) or ``"max"``.
        keep: how many checkpoints to keep (≥ 1).
        step: the step to record (default: the run's last step).

    Returns:
        The saved :class:`Checkpoint`, or None when it was not good enough to keep.

    Raises:
        InvalidArgumentError: a bad mode/keep, a mode different from earlier
            checkpoints of this run, or no value for a metric that was never logged.
    """
    if mode not in MODES:
        raise InvalidArgumentError(f"mode must be 'min' or 'max', got {mode!r}.")
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise InvalidArgumentError(f"keep must be a whole number ≥ 1, got {keep!r}.")
    if value is None:
        run.flush()
        if metric not in run.latest:
            raise InvalidArgumentError(
                f"no value for {metric!r}: it was never logged in run {run.name!r} — log it first or pass value=."
            )
        value = run.latest[metric]
    value = float(value)
    kept = checkpoints(run)
    if kept and (kept[0].metric != metric or kept[0].mode != mode):
        raise InvalidArgumentError(
            f"run {run.name!r} keeps checkpoints by {kept[0].metric!r} ({kept[0].mode}); use the same metric and mode."
        )
    if len(kept) >= keep and _rank(value, mode) >= _rank(kept[keep - 1].value, mode):
        return None
    torch = _torch()
    step = step if step is not None else max(run._next_step - 1, 0)
    folder = run.run_dir() / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"step{step:012d}-{len(list(folder.iterdir())):04d}.pt"
    torch.save(obj, path)
    meta = {"metric": metric, "value": value, "mode": mode, "step": step}
    run.log_artifact(path, f"checkpoints/{path.name}", kind="checkpoint", meta=meta)
    for dropped in checkpoints(run)[keep:]:
        run.store.remove_artifact(run.id, str(dropped.path))
        dropped.path.unlink(missing_ok=True)
    return Checkpoint(path, metric, value, mode, step)


def best_checkpoint(run: Any) -> Checkpoint | None:
    """The best checkpoint kept for ``run``, or None if none was saved."""
    kept = checkpoints(run)
    return kept[0] if kept else None
